import type { SlashCommand } from "./slash_command.js";

export const configCommand: SlashCommand = {
  name: "config",
  description: "show settings, or set one in the config file",
  args: "[key value]",
  run(args, ctx) {
    const [key, ...rest] = args.trim().split(/\s+/).filter((s) => s !== "");
    if (key === undefined) {
      ctx.notice(ctx.services.describeSettings().join("\n"));
      return;
    }
    if (rest.length === 0) {
      ctx.notice("usage: /config KEY VALUE (or /config to list)", "warn");
      return;
    }
    ctx.notice(ctx.services.setSetting(key, rest.join(" ")));
  },
};
