import type { SlashCommand } from "./slash_command.js";

export const compactCommand: SlashCommand = {
  name: "compact",
  description: "summarize older turns to free context",
  args: "[focus]",
  run(args, ctx) {
    ctx.compact(args.trim() === "" ? undefined : args.trim());
  },
};
