// Which checkpoint k2 loads: --model > K2_MODEL > config file > newest Kimi-K2 snapshot in the
// Hugging Face cache; and how /model resolves a path or a cache name.
import { mkdirSync, mkdtempSync, realpathSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkModelFolder, locateModel, resolveModelArgument } from "../../src/config/model_locator.js";
import { resolveSettings } from "../../src/config/resolve_settings.js";
import { SettingsFile } from "../../src/config/settings_file.js";
import { CheckpointError, UsageError } from "../../src/errors.js";

function fakeHub(root: string, repos: Record<string, number>): string {
  const hub = path.join(root, "hub");
  for (const [repo, mtime] of Object.entries(repos)) {
    const snap = path.join(hub, repo, "snapshots", "abc123");
    mkdirSync(snap, { recursive: true });
    writeFileSync(path.join(snap, "config.json"), "{}");
    utimesSync(path.join(snap, "config.json"), mtime, mtime);
  }
  return hub;
}

describe("model selection precedence", () => {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), "k2-model-sel-")));
  const home = path.join(root, "k2home");
  const hub = fakeHub(root, { "models--moonshotai--Kimi-K2-Instruct": 1_000, "models--moonshotai--Kimi-K2-Thinking": 2_000 });
  const choose = (env: NodeJS.ProcessEnv, flags: { model?: string } = {}) => {
    const s = resolveSettings({ flags, env: { K2_HOME: home, HF_HUB_CACHE: hub, ...env } });
    return { dir: locateModel(s.values.model, { HF_HUB_CACHE: hub }), source: s.sources.model };
  };

  it("uses the newest Kimi-K2 snapshot in the Hugging Face cache when nothing is set", () => {
    expect(choose({})).toEqual({ dir: path.join(hub, "models--moonshotai--Kimi-K2-Thinking", "snapshots", "abc123"), source: undefined });
  });

  it("the config file beats the cache, K2_MODEL beats the file, --model beats K2_MODEL", () => {
    new SettingsFile({ configDir: home, dataDir: home }).set("model", "/models/from-file");
    expect(choose({})).toEqual({ dir: "/models/from-file", source: "file" });
    expect(choose({ K2_MODEL: "/models/from-env" })).toEqual({ dir: "/models/from-env", source: "env" });
    expect(choose({ K2_MODEL: "/models/from-env" }, { model: "/models/from-flag" })).toEqual({ dir: "/models/from-flag", source: "flag" });
  });

  it("with no setting and an empty cache, says how to get a model", () => {
    expect(() => locateModel(undefined, { HF_HUB_CACHE: path.join(root, "empty") })).toThrow(UsageError);
    expect(() => locateModel(undefined, { HF_HUB_CACHE: path.join(root, "empty") })).toThrow(/huggingface-cli download moonshotai\/Kimi-K2-Thinking/);
  });
});

describe("/model arguments", () => {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), "k2-model-arg-")));
  const hub = fakeHub(root, { "models--moonshotai--Kimi-K2-Instruct": 1_000, "models--moonshotai--Kimi-K2-Thinking": 2_000 });
  const env = { HOME: "/home/u", HF_HUB_CACHE: hub };

  it("takes paths relative to the working directory, absolute, or under ~", () => {
    expect(resolveModelArgument("./ckpt", "/work/repo", env)).toBe("/work/repo/ckpt");
    expect(resolveModelArgument("/models/k2", "/work/repo", env)).toBe("/models/k2");
    expect(resolveModelArgument("~/models/k2", "/work/repo", env)).toBe("/home/u/models/k2");
  });

  it("matches a Hugging Face cache name, with or without the owner, case-insensitively", () => {
    const instruct = path.join(hub, "models--moonshotai--Kimi-K2-Instruct", "snapshots", "abc123");
    expect(resolveModelArgument("Kimi-K2-Instruct", "/work/repo", env)).toBe(instruct);
    expect(resolveModelArgument("moonshotai/kimi-k2-instruct", "/work/repo", env)).toBe(instruct);
  });

  it("an unknown name is a usage error naming the cache searched", () => {
    expect(() => resolveModelArgument("Kimi-K2-Nothing", "/work/repo", env)).toThrow(UsageError);
    expect(() => resolveModelArgument("Kimi-K2-Nothing", "/work/repo", env)).toThrow(hub);
  });

  it("checkModelFolder rejects a missing folder, a file and a folder without config.json", () => {
    expect(() => checkModelFolder(path.join(root, "missing"), "/model")).toThrow(/model folder does not exist \(from \/model\)/);
    writeFileSync(path.join(root, "file"), "x");
    expect(() => checkModelFolder(path.join(root, "file"))).toThrow(CheckpointError);
    mkdirSync(path.join(root, "empty-dir"));
    expect(() => checkModelFolder(path.join(root, "empty-dir"))).toThrow(/no config\.json/);
    expect(() => checkModelFolder(path.join(hub, "models--moonshotai--Kimi-K2-Thinking", "snapshots", "abc123"))).not.toThrow();
  });
});
