// The default command: decides between the interactive TUI and a one-shot, validates everything
// cheap first (flags, settings, stdin, session ids, model folder) so bad input fails in
// milliseconds with one line, then loads the model.
import path from "node:path";
import { VERSION } from "../version.js";
import { findSession, latestSession } from "../../agent/session/session_store.js";
import { sessionsDir } from "../../config/config_paths.js";
import { checkModelFolder, locateModel } from "../../config/model_locator.js";
import { resolveSettings, type ResolvedSettings } from "../../config/resolve_settings.js";
import type { LoadProgress } from "../../engine/types.js";
import { InterruptedError, UsageError } from "../../errors.js";
import { composePrompt, runOneShot } from "../../oneshot/run_oneshot.js";
import { colorAllowed } from "../../ui/ansi_style.js";
import { parseAppFlags, type AppFlags, type RawAppFlags } from "./app_flags.js";
import type { OpenedModel } from "./open_chat_model.js";
import { readPipedStdin } from "./read_stdin.js";
import { RecordingDriver } from "./recording_driver.js";
import type { AgentFactoryOptions } from "./session_services.js";
import { samplingFromSettings } from "./sampling_settings.js";

export interface AppTarget {
  kind: "local" | "remote";
  /** Checkpoint folder or endpoint URL. */
  where: string;
}

export async function runApp(raw: RawAppFlags): Promise<void> {
  const flags = parseAppFlags(raw);
  const settings = resolveSettings({ flags: flags.settings });
  const stdinTTY = process.stdin.isTTY === true;
  const stdoutTTY = process.stdout.isTTY === true;
  const oneShot = flags.prompt !== undefined || !stdinTTY || !stdoutTTY || flags.outputFormat !== "text";

  let prompt: string | undefined;
  if (oneShot) {
    const piped = stdinTTY ? undefined : await readPipedStdin();
    prompt = composePrompt(flags.prompt, piped);
    if (prompt.trim() === "") {
      throw new UsageError(stdinTTY ? 'no prompt: use k2 -p "..." or pipe input into k2' : "no prompt: stdin was empty and no -p text was given");
    }
    if (flags.resume === true) throw new UsageError("--resume needs a session id in one-shot mode (k2 --resume ID -p ...)");
  }
  if (typeof flags.resume === "string") {
    try {
      findSession(sessionsDir(settings.paths), flags.resume);
    } catch (err) {
      throw new UsageError(`--resume: ${(err as Error).message}`);
    }
  }

  const target = chooseTarget(flags, settings);
  if (oneShot) return runOneShotMode(flags, settings, target, prompt!);
  // Ink and React take a noticeable moment to import on a busy machine: say something first.
  process.stdout.write(`k2 ${VERSION} · starting ${target.kind === "local" ? path.basename(target.where) : target.where}…\n`);
  // Ink colours its components through chalk, which decides at import time and ignores NO_COLOR.
  if (!colorAllowed(process.stdout) || settings.values.theme === "mono") process.env.FORCE_COLOR = "0";
  const { runInteractive } = await importInteractiveOutsideCi();
  return runInteractive(flags, settings, target);
}

// Ink decides once, at import, whether it runs "in CI" (CI or CI_* set) and then draws only the
// final frame: a user who starts the TUI in a terminal with CI=true exported would get no prompt.
// Here stdin and stdout are terminals, so hide those variables while Ink loads, then put them
// back so tools the agent runs still see the user's environment.
async function importInteractiveOutsideCi(): Promise<typeof import("./run_interactive.js")> {
  const saved = Object.entries(process.env).filter(([k]) => k === "CI" || k === "CONTINUOUS_INTEGRATION" || k.startsWith("CI_"));
  for (const [k] of saved) delete process.env[k];
  try {
    return await import("./run_interactive.js");
  } finally {
    for (const [k, v] of saved) process.env[k] = v;
  }
}

function chooseTarget(flags: AppFlags, settings: ResolvedSettings): AppTarget {
  if (flags.endpoint !== undefined) return { kind: "remote", where: flags.endpoint };
  const dir = locateModel(settings.values.model);
  checkModelFolder(dir, settings.sources.model !== undefined ? describeSource(settings.sources.model) : undefined);
  return { kind: "local", where: dir };
}

function describeSource(s: string): string {
  return s === "flag" ? "--model" : s === "env" ? "K2_MODEL" : s === "file" ? "the config file" : s;
}

/** Loads the engine (or connects); imported lazily so the TUI can paint before these modules load. */
export async function openTarget(target: AppTarget, flags: AppFlags, settings: ResolvedSettings, onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
  const { openLocalModel, openRemoteModel } = await import("./open_chat_model.js");
  if (target.kind === "local") return openLocalModel(target.where, settings.values, onProgress);
  return openRemoteModel(target.where, flags.apiKey, flags.settings.model, flags.settings.contextSize);
}

export function disposeOpened(opened: OpenedModel): void {
  opened.model.dispose();
  opened.engine?.dispose();
}

export function factoryOptions(flags: AppFlags, settings: ResolvedSettings, opened: OpenedModel, interactive: boolean): AgentFactoryOptions {
  return { opened, settings, sampling: samplingFromSettings(settings.values), cwd: process.cwd(), interactive, allowTools: flags.allowTools };
}

async function runOneShotMode(flags: AppFlags, settings: ResolvedSettings, target: AppTarget, prompt: string): Promise<void> {
  const controller = new AbortController();
  let firstInterrupt = 0;
  const onSigint = () => {
    controller.abort();
    const now = Date.now();
    if (firstInterrupt === 0) {
      firstInterrupt = now;
      return;
    }
    // A second Ctrl+C does not wait for the engine. One kill(SIGINT) was observed to reach this
    // listener twice within milliseconds while the native engine runs, so only a press that a
    // person could have made (after 250 ms) counts as the second.
    if (now - firstInterrupt > 250) process.exit(130);
  };
  process.on("SIGINT", onSigint);
  // A reader that stops early (`k2 -p ... | head`) closes the pipe: stop generating, exit quietly.
  let pipeClosed = false;
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (pipeClosed) return;
    if (err.code !== "EPIPE") throw err;
    pipeClosed = true;
    controller.abort();
  };
  process.stdout.on("error", onStdoutError);
  const opened = await openTarget(target, flags, settings);
  try {
    const { AgentFactory } = await import("./session_services.js");
    const factory = new AgentFactory(factoryOptions(flags, settings, opened, false));
    let agent;
    if (typeof flags.resume === "string") agent = factory.resume(flags.resume);
    else if (flags.continueLast) {
      const last = latestSession(factory.sessionsDir, process.cwd());
      agent = last !== null ? factory.resume(last.header.id) : factory.create();
    } else agent = factory.create();
    const driver = new RecordingDriver(agent);
    const { exitCode } = await runOneShot(driver, prompt, {
      format: flags.outputFormat,
      showThinking: settings.values.showThinking === true,
      signal: controller.signal,
    });
    if (pipeClosed) return;
    if (exitCode === 130 || controller.signal.aborted) throw new InterruptedError();
    process.exitCode = exitCode;
  } finally {
    process.off("SIGINT", onSigint);
    disposeOpened(opened);
  }
}
