// `k2 config get|set|unset|list|path`: the settings file through the same schema the app uses.
import { configFilePath, k2Paths } from "../../config/config_paths.js";
import { resolveSettings } from "../../config/resolve_settings.js";
import { SettingsFile } from "../../config/settings_file.js";
import { requireSettingKey, SETTING_KEYS, SETTINGS } from "../../config/settings_schema.js";

export function configPath(out: NodeJS.WritableStream = process.stdout): void {
  out.write(configFilePath(k2Paths()) + "\n");
}

export function configGet(key: string, out: NodeJS.WritableStream = process.stdout): void {
  const k = requireSettingKey(key);
  const resolved = resolveSettings();
  const v = resolved.values[k];
  if (v === undefined) {
    process.exitCode = 1; // like `git config`: unset prints nothing and fails, so scripts can test it
    return;
  }
  out.write(`${String(v)}\n`);
}

export function configSet(key: string, value: string, out: NodeJS.WritableStream = process.stdout): void {
  const file = new SettingsFile();
  const stored = file.set(key, value);
  out.write(`${key} = ${String(stored)}\n`);
}

export function configUnset(key: string): void {
  new SettingsFile().unset(key);
}

export function configList(out: NodeJS.WritableStream = process.stdout): void {
  const resolved = resolveSettings();
  out.write(`# ${resolved.configFile}\n`);
  for (const key of SETTING_KEYS) {
    const v = resolved.values[key];
    const src = resolved.sources[key];
    const shown = v === undefined ? "(unset)" : String(v);
    out.write(`${key} = ${shown}${src !== undefined ? `  # ${src === "env" ? SETTINGS[key].env : src}` : ""}\n`);
  }
}
