import type { SlashCommand } from "./slash_command.js";

export const helpCommand: SlashCommand = {
  name: "help",
  description: "list commands and keys",
  run(_args, ctx) {
    const cmds = ctx.commands.map((c) => `  /${c.name}${c.args !== undefined ? ` ${c.args}` : ""} — ${c.description}`);
    const keys = [
      "  Enter send · Shift+Enter / Ctrl+J / \\+Enter newline · Up/Down history",
      "  Esc cancel the running turn · Ctrl+C clear / cancel / exit (twice) · Ctrl+D exit",
      "  Ctrl+O show the last reasoning · Shift+Tab cycle permission mode",
    ];
    ctx.notice(["Commands:", ...cmds, "Keys:", ...keys].join("\n"));
  },
};
