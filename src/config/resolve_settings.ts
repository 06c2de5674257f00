// Layering: command-line flags > environment (K2_*) > settings file > built-in defaults.
import { k2Paths, type K2Paths } from "./config_paths.js";
import { SettingsFile } from "./settings_file.js";
import { defaultSettings, parseSettingValue, SETTING_KEYS, SETTINGS, type Settings, type SettingKey } from "./settings_schema.js";

export type SettingSource = "flag" | "env" | "file" | "default";

export interface ResolvedSettings {
  values: Settings;
  sources: Partial<Record<SettingKey, SettingSource>>;
  configFile: string;
  paths: K2Paths;
}

export function envSettings(env: NodeJS.ProcessEnv): Settings {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const name = SETTINGS[key].env;
    const text = env[name];
    if (text === undefined || text === "") continue;
    out[key] = parseSettingValue(key, text, `environment variable ${name}`);
  }
  return out as Settings;
}

export function resolveSettings(options: { flags?: Settings; env?: NodeJS.ProcessEnv; paths?: K2Paths } = {}): ResolvedSettings {
  const env = options.env ?? process.env;
  const paths = options.paths ?? k2Paths(env);
  const file = new SettingsFile(paths);
  const layers: [SettingSource, Settings][] = [
    ["default", defaultSettings()],
    ["file", file.all()],
    ["env", envSettings(env)],
    ["flag", options.flags ?? {}],
  ];
  const values: Record<string, unknown> = {};
  const sources: Partial<Record<SettingKey, SettingSource>> = {};
  for (const [source, layer] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      values[key] = value;
      sources[key as SettingKey] = source;
    }
  }
  return { values: values as Settings, sources, configFile: file.path, paths };
}
