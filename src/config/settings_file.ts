// The settings file (config.json) through `conf`: JSON-schema validated on every read and write,
// written atomically, never silently cleared when a hand edit breaks it (that is reported).
import path from "node:path";
import Conf from "conf";
import { ConfigError } from "../errors.js";
import { configFilePath, k2Paths, type K2Paths } from "./config_paths.js";
import { jsonSchemaProperties, parseSettingValue, requireSettingKey, type SettingKey, type Settings } from "./settings_schema.js";

export class SettingsFile {
  readonly path: string;
  private readonly store: Conf<Settings>;

  constructor(paths: K2Paths = k2Paths()) {
    this.path = configFilePath(paths);
    try {
      this.store = new Conf<Settings>({
        cwd: paths.configDir,
        configName: "config",
        projectSuffix: "",
        clearInvalidConfig: false,
        schema: jsonSchemaProperties() as never,
        rootSchema: { additionalProperties: false },
      });
    } catch (err) {
      throw new ConfigError(`${this.path}: ${describeConfError(err)}`);
    }
  }

  /** Everything the file sets (defaults not included). */
  all(): Settings {
    return { ...this.store.store };
  }

  get(key: string): Settings[SettingKey] {
    return this.store.get(requireSettingKey(key));
  }

  /** Parses `text` for `key`, validates it and writes the file. Returns the stored value. */
  set(key: string, text: string): string | number | boolean {
    const k = requireSettingKey(key);
    let value = parseSettingValue(k, text, `k2 config set ${k}`);
    // A relative checkpoint path means "relative to where I am now", not to wherever k2 runs later.
    if (k === "model" && typeof value === "string") value = path.resolve(value);
    try {
      this.store.set(k, value as never);
    } catch (err) {
      throw new ConfigError(`${this.path}: ${describeConfError(err)}`);
    }
    return value;
  }

  unset(key: string): void {
    this.store.delete(requireSettingKey(key));
  }
}

function describeConfError(err: unknown): string {
  if (err instanceof SyntaxError) return `not valid JSON (${err.message}); fix or delete the file`;
  if (err instanceof Error) return err.message.replace(/^Config schema violation: /, "invalid settings: ");
  return String(err);
}
