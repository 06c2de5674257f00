import type { SlashCommand } from "./slash_command.js";

export const statsCommand: SlashCommand = {
  name: "stats",
  description: "engine telemetry: speed, memory, KV and expert cache",
  run(_args, ctx) {
    ctx.notice(ctx.services.engineStats().join("\n"));
  },
};
