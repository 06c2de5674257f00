// The app's session-level services (AppServices for the slash commands): new and resumed
// conversations over one loaded model, transcript export, settings and engine telemetry.
import { renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Agent, resumeOptions, type AgentOptions } from "../../agent/agent.js";
import { INIT_PROMPT } from "../../agent/init_prompt.js";
import { configHash, findSession, listSessions, SessionWriter } from "../../agent/session/session_store.js";
import type { ChatMessage } from "../../chat/messages.js";
import type { ResolvedSettings } from "../../config/resolve_settings.js";
import { SettingsFile } from "../../config/settings_file.js";
import { sessionsDir } from "../../config/config_paths.js";
import { SETTING_KEYS } from "../../config/settings_schema.js";
import type { LoadProgress, SamplingOptions } from "../../engine/types.js";
import { checkModelFolder, resolveModelArgument } from "../../config/model_locator.js";
import { formatBytes, formatSeconds } from "../../ui/format_units.js";
import type { AppServices, SessionDriver } from "../../ui/session_driver.js";
import { engineStatsLines } from "./engine_stats.js";
import { openLocalModel, type OpenedModel } from "./open_chat_model.js";
import { disposeOpened } from "./run_app.js";
import { RecordingDriver } from "./recording_driver.js";

export interface AgentFactoryOptions {
  opened: OpenedModel;
  settings: ResolvedSettings;
  sampling: SamplingOptions;
  cwd: string;
  interactive: boolean;
  allowTools?: true | string[];
  /** Persist the conversation as a JSONL session (default true). */
  persist?: boolean;
}

export class AgentFactory {
  constructor(private readonly o: AgentFactoryOptions) {}

  get sessionsDir(): string {
    return sessionsDir(this.o.settings.paths);
  }

  private base(): AgentOptions {
    const { opened, settings, sampling, cwd } = this.o;
    return {
      model: opened.model,
      cwd,
      sampling,
      compactThreshold: settings.values.compactThreshold,
      permissions: this.o.interactive
        ? { mode: settings.values.permissionMode ?? "ask", interactive: true, allowTools: this.o.allowTools }
        : { mode: settings.values.permissionMode ?? "ask", interactive: false, allowTools: this.o.allowTools },
    };
  }

  create(): Agent {
    const base = this.base();
    const session =
      this.o.persist === false
        ? null
        : SessionWriter.create(this.sessionsDir, {
            cwd: this.o.cwd,
            model: { name: this.o.opened.model.name, path: this.o.opened.dir, configHash: configHash({ model: this.o.opened.dir, context: this.o.opened.model.contextWindow }) },
            sampling: this.o.sampling,
            seed: this.o.sampling.seed,
          });
    return new Agent({ ...base, session });
  }

  resume(id: string): Agent {
    return new Agent({ ...this.base(), ...resumeOptions(findSession(this.sessionsDir, id)) });
  }
}

export function transcriptMarkdown(messages: readonly ChatMessage[]): string {
  const parts: string[] = [];
  for (const m of messages) {
    if (m.role === "user") parts.push(`## User\n\n${typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("")}`);
    else if (m.role === "assistant") {
      let s = "## K2\n\n";
      if (m.reasoning_content) s += `<details><summary>reasoning</summary>\n\n${m.reasoning_content}\n\n</details>\n\n`;
      s += m.content;
      for (const c of m.tool_calls ?? []) s += `\n\n\`${c.function.name}\` ${typeof c.function.arguments === "string" ? c.function.arguments : JSON.stringify(c.function.arguments)}`;
      parts.push(s);
    } else if (m.role === "tool") parts.push(`### ${m.name} result\n\n\`\`\`\n${m.content}\n\`\`\``);
  }
  return parts.join("\n\n") + "\n";
}

/** The loaded model and the factory over it; /model replaces both. */
export interface ModelSlot {
  factory: AgentFactory;
  options: AgentFactoryOptions;
}

/** Services over the loaded model; `holder.current` follows /clear, /resume and /model. */
export function createAppServices(slot: ModelSlot, holder: { current: RecordingDriver }): AppServices {
  const services: AppServices = {
    listSessions: () => listSessions(slot.factory.sessionsDir, { cwd: slot.options.cwd }),
    resumeSession: (id) => (holder.current = new RecordingDriver(slot.factory.resume(id))),
    newSession: () => (holder.current = new RecordingDriver(slot.factory.create())),
    saveTranscript(driver: SessionDriver, file?: string) {
      const target = path.resolve(slot.options.cwd, file ?? `k2-conversation-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.md`);
      const tmp = `${target}.${process.pid}.tmp`;
      writeFileSync(tmp, transcriptMarkdown(driver.messages), "utf8");
      renameSync(tmp, target);
      return target;
    },
    describeSettings() {
      const s = slot.options.settings;
      return [
        `config file: ${s.configFile}`,
        ...SETTING_KEYS.filter((k) => s.values[k] !== undefined).map((k) => `  ${k} = ${String(s.values[k])}  (${s.sources[k]})`),
      ];
    },
    setSetting(key, value) {
      const stored = new SettingsFile(slot.options.settings.paths).set(key, value);
      return `${key} = ${String(stored)} saved to ${slot.options.settings.configFile} (takes effect next start)`;
    },
    engineStats: () => engineStatsLines(slot.options.opened, holder.current),
    describeModel() {
      const o = slot.options;
      const e = o.opened.engine;
      const lines = [`model: ${o.opened.model.name}${o.opened.dir !== undefined ? ` (${o.opened.dir})` : ""}`, `context window: ${o.opened.model.contextWindow} tokens`];
      if (e !== undefined) {
        const i = e.info;
        lines.push(
          `${i.modelType}: ${i.layers} layers, hidden ${i.hiddenSize}, ${i.routedExperts} experts (${i.expertsPerToken} active + ${i.sharedExperts} shared), vocab ${i.vocabSize}`,
          `weights ${formatBytes(i.bytes.total)} · backend ${e.details.backend} · loaded in ${formatSeconds(o.opened.loadMs)}`,
        );
      }
      lines.push(
        e !== undefined
          ? "switch with /model DIR or /model NAME (a Hugging Face cache snapshot); make it the default with `k2 config set model DIR`"
          : "served by an endpoint: start k2 with --model DIR to use a local checkpoint",
      );
      return lines;
    },
    initPrompt: INIT_PROMPT,
  };
  // Only a local engine can be swapped; a remote endpoint names its own model.
  if (slot.options.opened.engine !== undefined) services.switchModel = (target, onProgress) => switchModel(slot, holder, target, onProgress);
  return services;
}

async function switchModel(slot: ModelSlot, holder: { current: RecordingDriver }, target: string, onProgress: (p: LoadProgress) => void): Promise<SessionDriver> {
  const o = slot.options;
  const dir = resolveModelArgument(target, o.cwd);
  checkModelFolder(dir, "/model");
  // Load first: if the new checkpoint fails, the current model keeps working.
  const opened = await openLocalModel(dir, o.settings.values, onProgress);
  const previous = o.opened;
  slot.options = { ...o, opened };
  slot.factory = new AgentFactory(slot.options);
  holder.current = new RecordingDriver(slot.factory.create());
  disposeOpened(previous);
  return holder.current;
}
