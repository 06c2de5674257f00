// The slash commands in palette order, and lookup by what was typed.
import { clearCommand } from "./clear_command.js";
import { compactCommand } from "./compact_command.js";
import { configCommand } from "./config_command.js";
import { exitCommand } from "./exit_command.js";
import { helpCommand } from "./help_command.js";
import { initCommand } from "./init_command.js";
import { modelCommand } from "./model_command.js";
import { resumeCommand } from "./resume_command.js";
import { saveCommand } from "./save_command.js";
import type { SlashCommand } from "./slash_command.js";
import { statsCommand } from "./stats_command.js";
import { thinkCommand } from "./think_command.js";

export const SLASH_COMMANDS: readonly SlashCommand[] = [
  helpCommand,
  clearCommand,
  modelCommand,
  statsCommand,
  thinkCommand,
  saveCommand,
  resumeCommand,
  compactCommand,
  configCommand,
  initCommand,
  exitCommand,
];

/** Commands whose name starts with what follows the "/" (the palette while typing). */
export function matchSlashCommands(input: string, commands: readonly SlashCommand[] = SLASH_COMMANDS): SlashCommand[] {
  if (!input.startsWith("/") || /\s/.test(input)) return [];
  const typed = input.slice(1).toLowerCase();
  return commands.filter((c) => c.name.startsWith(typed));
}

/** Splits "/name args" into the command and its arguments; null when it is not a command. */
export function parseSlashCommand(input: string, commands: readonly SlashCommand[] = SLASH_COMMANDS): { command: SlashCommand; args: string } | { unknown: string } | null {
  const m = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(input.trim());
  if (m === null) return null;
  const command = commands.find((c) => c.name === m[1]!.toLowerCase());
  return command !== undefined ? { command, args: m[2] ?? "" } : { unknown: m[1]! };
}
