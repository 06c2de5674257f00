import type { SlashCommand } from "./slash_command.js";

export const modelCommand: SlashCommand = {
  name: "model",
  description: "show the loaded model, or switch to another checkpoint (new conversation)",
  args: "[dir|name]",
  run(args, ctx) {
    const target = args.trim();
    if (target === "") {
      ctx.notice(ctx.services.describeModel().join("\n"));
      return;
    }
    const switchModel = ctx.services.switchModel;
    if (switchModel === undefined) {
      ctx.notice("this session is served by an endpoint and cannot switch models: start k2 again with --model DIR", "warn");
      return;
    }
    if (ctx.busy) {
      ctx.notice("busy (a turn is running or a model is loading): wait, or press Esc to cancel the turn, then /model again", "warn");
      return;
    }
    const previous = ctx.driver.sessionId;
    ctx.runTask(`loading ${target}`, async (onProgress) => {
      const driver = await switchModel(target, onProgress);
      ctx.replaceDriver(driver);
      ctx.notice(
        `switched to ${driver.model.name} · context ${driver.model.contextWindow} tokens · new conversation` +
          (previous !== null ? ` (the previous one is session ${previous}: /resume ${previous} continues it on this model)` : ""),
      );
    });
  },
};
