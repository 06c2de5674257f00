import type { SlashCommand } from "./slash_command.js";

export const initCommand: SlashCommand = {
  name: "init",
  description: "analyze the repository and write AGENTS.md",
  run(_args, ctx) {
    if (ctx.services.initPrompt === undefined) {
      ctx.notice("/init is not available with this agent", "warn");
      return;
    }
    // The transcript shows the command; the model gets the full instructions.
    ctx.submit(ctx.services.initPrompt, "/init · analyze this repository and write AGENTS.md");
  },
};
