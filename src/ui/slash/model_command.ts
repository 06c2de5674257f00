import type { SlashCommand } from "./slash_command.js";

export const modelCommand: SlashCommand = {
  name: "model",
  description: "show the loaded model (switch with `k2 --model DIR`)",
  run(_args, ctx) {
    ctx.notice(ctx.services.describeModel().join("\n"));
  },
};
