import type { SlashCommand } from "./slash_command.js";

export const exitCommand: SlashCommand = {
  name: "exit",
  description: "quit k2",
  run(_args, ctx) {
    ctx.exit();
  },
};
