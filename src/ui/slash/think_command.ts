import type { SlashCommand } from "./slash_command.js";

export const thinkCommand: SlashCommand = {
  name: "think",
  description: "show or hide the model's reasoning",
  run(_args, ctx) {
    const on = ctx.toggleThinking();
    ctx.notice(on ? "reasoning: shown in full" : "reasoning: collapsed to one line (ctrl+o shows the last one)");
  },
};
