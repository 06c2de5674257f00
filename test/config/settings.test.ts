import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configFilePath, k2Paths } from "../../src/config/config_paths.js";
import { findHubSnapshots, locateModel } from "../../src/config/model_locator.js";
import { envSettings, resolveSettings } from "../../src/config/resolve_settings.js";
import { SettingsFile } from "../../src/config/settings_file.js";
import { parseSettingValue } from "../../src/config/settings_schema.js";
import { ConfigError, UsageError } from "../../src/errors.js";
import { mkdirSync, utimesSync } from "node:fs";

const tmp = () => mkdtempSync(path.join(os.tmpdir(), "k2-config-test-"));

describe("config paths", () => {
  it("uses K2_HOME for config and data when set", () => {
    const p = k2Paths({ K2_HOME: "/opt/k2home", HOME: "/home/u" }, "linux");
    expect(p).toEqual({ configDir: "/opt/k2home", dataDir: "/opt/k2home" });
  });
  it("follows XDG on Linux with a plain k2 folder (no -nodejs suffix)", () => {
    expect(k2Paths({ HOME: "/home/u" }, "linux")).toEqual({ configDir: "/home/u/.config/k2", dataDir: "/home/u/.local/share/k2" });
    expect(k2Paths({ HOME: "/home/u", XDG_CONFIG_HOME: "/x/cfg", XDG_DATA_HOME: "/x/data" }, "linux")).toEqual({ configDir: "/x/cfg/k2", dataDir: "/x/data/k2" });
  });
  it("uses ~/Library/Preferences/k2 on macOS", () => {
    expect(k2Paths({ HOME: "/Users/u" }, "darwin").configDir).toBe("/Users/u/Library/Preferences/k2");
  });
});

describe("settings file", () => {
  it("validates values on set and persists them as JSON", () => {
    const dir = tmp();
    const paths = { configDir: dir, dataDir: dir };
    const file = new SettingsFile(paths);
    expect(file.set("temperature", "0.6")).toBe(0.6);
    expect(file.set("permissionMode", "auto-edit")).toBe("auto-edit");
    expect(file.set("model", "rel/ckpt")).toBe(path.resolve("rel/ckpt"));
    file.unset("model");
    expect(() => file.set("temperature", "hot")).toThrow(ConfigError);
    expect(() => file.set("temperature", "5")).toThrow(/must be <= 2/);
    expect(() => file.set("topK", "1.5")).toThrow(/integer/);
    expect(() => file.set("theme", "neon")).toThrow(/one of dark, light, mono/);
    expect(() => file.set("colour", "red")).toThrow(/unknown setting "colour"/);
    expect(JSON.parse(readFileSync(configFilePath(paths), "utf8"))).toEqual({ temperature: 0.6, permissionMode: "auto-edit" });
  });

  it("reports a hand-edited file that breaks the schema instead of clearing it", () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "config.json"), JSON.stringify({ temperature: "warm" }));
    expect(() => new SettingsFile({ configDir: dir, dataDir: dir })).toThrow(ConfigError);
    expect(() => new SettingsFile({ configDir: dir, dataDir: dir })).toThrow(/config\.json/);
    expect(readFileSync(path.join(dir, "config.json"), "utf8")).toContain("warm");
    writeFileSync(path.join(dir, "config.json"), "{ not json");
    expect(() => new SettingsFile({ configDir: dir, dataDir: dir })).toThrow(/config\.json/);
    writeFileSync(path.join(dir, "config.json"), JSON.stringify({ temprature: 1 }));
    expect(() => new SettingsFile({ configDir: dir, dataDir: dir })).toThrow(ConfigError);
  });
});

describe("layering", () => {
  it("flags override env, env overrides the file, the file overrides defaults", () => {
    const dir = tmp();
    const paths = { configDir: dir, dataDir: dir };
    const file = new SettingsFile(paths);
    file.set("temperature", "0.3");
    file.set("topP", "0.9");
    file.set("theme", "light");
    const r = resolveSettings({ paths, env: { K2_TEMPERATURE: "0.5", K2_TOP_P: "0.8" }, flags: { temperature: 0.7 } });
    expect(r.values.temperature).toBe(0.7);
    expect(r.sources.temperature).toBe("flag");
    expect(r.values.topP).toBe(0.8);
    expect(r.sources.topP).toBe("env");
    expect(r.values.theme).toBe("light");
    expect(r.sources.theme).toBe("file");
    expect(r.values.permissionMode).toBe("ask");
    expect(r.sources.permissionMode).toBe("default");
  });

  it("names the environment variable at fault", () => {
    expect(() => envSettings({ K2_TOP_K: "many" })).toThrow(/environment variable K2_TOP_K/);
    expect(envSettings({ K2_MODEL: "/m", K2_SHOW_THINKING: "yes" })).toEqual({ model: "/m", showThinking: true });
  });

  it("parses booleans and rejects empty numbers", () => {
    expect(parseSettingValue("showThinking", "off", "x")).toBe(false);
    expect(() => parseSettingValue("seed", "", "--seed")).toThrow(/--seed/);
  });
});

describe("model lookup", () => {
  it("prefers the configured path, else the newest Kimi-K2 snapshot in the HF cache", () => {
    const hub = tmp();
    const mk = (repo: string, snap: string, mtime: number) => {
      const d = path.join(hub, repo, "snapshots", snap);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, "config.json"), "{}");
      utimesSync(path.join(d, "config.json"), mtime, mtime);
      return d;
    };
    const older = mk("models--moonshotai--Kimi-K2-Instruct", "aaa", 1_000_000);
    const newer = mk("models--moonshotai--Kimi-K2-Thinking", "bbb", 2_000_000);
    mkdirSync(path.join(hub, "models--moonshotai--Kimi-K2-Thinking", "snapshots", "incomplete"), { recursive: true });
    mk("models--other--model", "ccc", 3_000_000);
    expect(findHubSnapshots(hub)).toEqual([newer, older]);
    expect(locateModel(undefined, { HF_HUB_CACHE: hub })).toBe(newer);
    expect(locateModel("/some/where", { HF_HUB_CACHE: hub })).toBe("/some/where");
  });

  it("explains how to get a model when none is found", () => {
    const empty = tmp();
    expect(() => locateModel(undefined, { HF_HUB_CACHE: empty })).toThrow(UsageError);
    expect(() => locateModel(undefined, { HF_HUB_CACHE: empty })).toThrow(/huggingface-cli download moonshotai\/Kimi-K2-Thinking/);
  });
});
