// Which checkpoint to load when --model is not given: the setting (file or K2_MODEL, already
// layered by resolveSettings), else the newest Kimi-K2 snapshot in the Hugging Face hub cache.
import { existsSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CheckpointError, UsageError } from "../errors.js";

export function huggingFaceHubDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return path.join(env.HF_HOME, "hub");
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : os.homedir();
  return path.join(home, ".cache", "huggingface", "hub");
}

/** `models--moonshotai--Kimi-K2*` / snapshots / * with a config.json, newest first by mtime. */
export function findHubSnapshots(hubDir: string): string[] {
  if (!existsSync(hubDir)) return [];
  const found: { dir: string; mtime: number }[] = [];
  for (const repo of readdirSync(hubDir)) {
    if (!repo.toLowerCase().startsWith("models--moonshotai--kimi-k2")) continue;
    const snaps = path.join(hubDir, repo, "snapshots");
    if (!existsSync(snaps)) continue;
    for (const snap of readdirSync(snaps)) {
      const config = path.join(snaps, snap, "config.json");
      if (existsSync(config)) found.push({ dir: path.join(snaps, snap), mtime: statSync(config).mtimeMs });
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime).map((f) => f.dir);
}

export function locateModel(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (configured !== undefined && configured !== "") return path.resolve(configured);
  const hub = huggingFaceHubDir(env);
  const snaps = findHubSnapshots(hub);
  if (snaps.length > 0) return snaps[0]!;
  throw new UsageError(
    `no model: pass --model DIR, set K2_MODEL, or run \`k2 config set model DIR\`; none found in ${hub} ` +
      `(download one with \`huggingface-cli download moonshotai/Kimi-K2-Thinking\`)`,
  );
}

/**
 * A model named on the command line or in `/model`: a folder path (absolute, relative to `cwd`, or
 * `~/…`), else a name matched against the Hugging Face cache's Kimi-K2 snapshots
 * (`Kimi-K2-Thinking`, `moonshotai/Kimi-K2-Thinking`; newest snapshot of the repo).
 */
export function resolveModelArgument(arg: string, cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const text = arg.trim();
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : os.homedir();
  const expanded = text === "~" ? home : text.startsWith("~/") ? path.join(home, text.slice(2)) : text;
  const asPath = path.resolve(cwd, expanded);
  const looksLikePath = expanded.startsWith("/") || expanded.startsWith(".") || text.startsWith("~") || existsSync(asPath);
  if (looksLikePath) return asPath;
  const hub = huggingFaceHubDir(env);
  const wanted = text.toLowerCase().replace(/\//g, "--");
  const match = findHubSnapshots(hub).find((dir) => {
    const repo = path.basename(path.dirname(path.dirname(dir))).toLowerCase(); // models--moonshotai--kimi-k2-thinking
    return repo === `models--${wanted}` || repo.endsWith(`--${wanted}`);
  });
  if (match === undefined) throw new UsageError(`model "${text}": no such folder, and no Hugging Face snapshot of that name in ${hub}`);
  return match;
}

/** Checks that `dir` is a checkpoint folder before anything loads it; `from` says where the path came from. */
export function checkModelFolder(dir: string, from?: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CheckpointError(dir, `model folder does not exist${from !== undefined ? ` (from ${from})` : ""}`);
  }
  if (!isDir) throw new CheckpointError(dir, "not a folder (pass the checkpoint directory)");
  if (!existsSync(path.join(dir, "config.json"))) throw new CheckpointError(dir, "not a K2 checkpoint: no config.json");
}
