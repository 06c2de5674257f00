import type { SlashCommand } from "./slash_command.js";

export const saveCommand: SlashCommand = {
  name: "save",
  description: "write the conversation as Markdown",
  args: "[file]",
  run(args, ctx) {
    const file = ctx.services.saveTranscript(ctx.driver, args.trim() === "" ? undefined : args.trim());
    ctx.notice(`saved the conversation to ${file}`);
  },
};
