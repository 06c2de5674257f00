// The interactive TUI: mounts Ink at once (the loading screen is the first frame), loads the
// model under it, then swaps in the chat screen. Loaded lazily: one-shots never import React.
import { render } from "ink";
import { latestSession } from "../../agent/session/session_store.js";
import { historyFilePath } from "../../config/config_paths.js";
import type { ResolvedSettings } from "../../config/resolve_settings.js";
import type { LoadProgress } from "../../engine/types.js";
import { ansiStyle, colorAllowed } from "../../ui/ansi_style.js";
import { LoadingScreen } from "../../ui/LoadingScreen.js";
import type { LoadMemoryEstimate } from "../../ui/components/LoadProgress.js";
import { formatBytes } from "../../ui/format_units.js";
import { gitBranch } from "../../ui/git_branch.js";
import { InputHistory } from "../../ui/input_history.js";
import type { AppFlags } from "./app_flags.js";
import { RecordingDriver } from "./recording_driver.js";
import { disposeOpened, factoryOptions, openTarget, type AppTarget } from "./run_app.js";
import path from "node:path";

export async function runInteractive(flags: AppFlags, settings: ResolvedSettings, target: AppTarget): Promise<void> {
  const color = colorAllowed(process.stdout) && settings.values.theme !== "mono";
  const style = ansiStyle(color, settings.values.theme);
  const name = target.kind === "local" ? path.basename(target.where) : target.where;
  let listener: ((p: LoadProgress) => void) | undefined;
  let lastProgress: LoadProgress | undefined;
  const subscribe = (cb: (p: LoadProgress) => void) => {
    listener = cb;
    if (lastProgress !== undefined) cb(lastProgress);
  };
  const loadingScreen = (memory?: LoadMemoryEstimate) => <LoadingScreen modelName={name} subscribe={subscribe} memory={memory} />;
  const instance = render(loadingScreen(), {
    exitOnCtrlC: false,
    kittyKeyboard: { mode: "auto", flags: ["disambiguateEscapeCodes"] },
  });
  // Let Ink paint the first frame before the (synchronous, native) load starts; the chat screen's
  // modules load meanwhile.
  const chatModules = Promise.all([import("../../ui/App.js"), import("./session_services.js")]);
  // The memory estimate reads config.json and the shard sizes: shown a moment after the first frame.
  let loading = true;
  if (target.kind === "local") {
    void import("./memory_estimate.js")
      .then(({ estimateLoadMemory }) => estimateLoadMemory(target.where, settings.values))
      .then((memory) => {
        if (loading && memory !== undefined) instance.rerender(loadingScreen(memory));
      });
  }
  await new Promise((r) => setTimeout(r, 20));

  let opened;
  try {
    opened = await openTarget(target, flags, settings, (p) => {
      lastProgress = p;
      listener?.(p);
    });
  } catch (err) {
    loading = false;
    instance.unmount();
    throw err;
  }
  // /model swaps the loaded model: whatever is in the slot at exit is what gets disposed.
  let slot: import("./session_services.js").ModelSlot | undefined;
  try {
    const [{ ChatApp }, { AgentFactory, createAppServices }] = await chatModules;
    const options = factoryOptions(flags, settings, opened, true);
    const factory = new AgentFactory(options);
    const notices: string[] = [];
    let agent;
    if (typeof flags.resume === "string") {
      agent = factory.resume(flags.resume);
      notices.push(`resumed session ${agent.sessionId ?? flags.resume} (${agent.messages.length} messages)`);
    } else if (flags.continueLast) {
      const last = latestSession(factory.sessionsDir, process.cwd());
      if (last !== null) {
        agent = factory.resume(last.header.id);
        notices.push(`continuing session ${last.header.id} (${last.messages.length} messages)`);
      } else {
        agent = factory.create();
        notices.push("no earlier session in this folder; starting a new one");
      }
    } else agent = factory.create();
    const holder = { current: new RecordingDriver(agent) };
    slot = { factory, options };
    const services = createAppServices(slot, holder);
    if (flags.resume === true) {
      const sessions = services.listSessions().slice(0, 10);
      notices.push(sessions.length === 0 ? "no saved sessions in this folder" : ["pick a session with /resume ID:", ...sessions.map((s) => `  ${s.id}  ${s.title}`)].join("\n"));
    }
    if (holder.current.messages.length > 0) notices.push(...recap(holder.current.messages));
    const memory =
      opened.engine !== undefined && opened.session !== undefined
        ? ` · weights ${formatBytes(opened.engine.info.bytes.total)} + KV cache up to ${formatBytes(opened.session.kvCapacity().bytes)}`
        : "";
    notices.push(`${opened.model.name} ready · context ${opened.model.contextWindow} tokens${memory} · /help for commands`);
    // Clear the loading screen first and give Ink's throttled renderer time to flush: a loading
    // frame still pending when the chat screen prints its first <Static> lines would be written
    // after them and stay behind in the scrollback.
    loading = false;
    instance.rerender(<></>);
    await new Promise((r) => setTimeout(r, 50));
    instance.rerender(
      <ChatApp
        driver={holder.current}
        services={services}
        history={new InputHistory(historyFilePath(settings.paths))}
        style={style}
        cwd={process.cwd()}
        branch={gitBranch(process.cwd())}
        showThinking={settings.values.showThinking === true}
        initialNotices={notices}
      />,
    );
    await instance.waitUntilExit();
  } finally {
    disposeOpened(slot?.options.opened ?? opened);
  }
}

/** The last messages of a resumed conversation, one line each. */
function recap(messages: readonly import("../../chat/messages.js").ChatMessage[]): string[] {
  return messages
    .filter((m) => m.role === "user" || (m.role === "assistant" && m.content !== ""))
    .slice(-6)
    .map((m) => {
      const text = typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("");
      const line = text.replace(/\s+/g, " ").slice(0, 100);
      return m.role === "user" ? `› ${line}` : `  ${line}`;
    });
}
