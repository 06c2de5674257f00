import type { SlashCommand } from "./slash_command.js";

export const resumeCommand: SlashCommand = {
  name: "resume",
  description: "list saved sessions, or continue one",
  args: "[id]",
  run(args, ctx) {
    const id = args.trim();
    if (id === "") {
      const sessions = ctx.services.listSessions().slice(0, 15);
      if (sessions.length === 0) {
        ctx.notice("no saved sessions for this folder");
        return;
      }
      ctx.notice(["Sessions (newest first; /resume ID to continue):", ...sessions.map((s) => `  ${s.id}  ${s.updatedAt.toISOString().slice(0, 16).replace("T", " ")}  ${s.messageCount} msgs  ${s.title}`)].join("\n"));
      return;
    }
    const driver = ctx.services.resumeSession(id);
    ctx.replaceDriver(driver);
    ctx.notice(`resumed session ${driver.sessionId ?? id} (${driver.messages.length} messages)`);
  },
};
