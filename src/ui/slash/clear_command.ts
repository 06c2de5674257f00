import type { SlashCommand } from "./slash_command.js";

export const clearCommand: SlashCommand = {
  name: "clear",
  description: "start a new conversation and clear the screen",
  run(_args, ctx) {
    ctx.replaceDriver(ctx.services.newSession());
    ctx.clearScreen();
  },
};
