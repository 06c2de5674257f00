// The project's hand-editable permission file, `.k2/settings.json` at the repository root:
//   { "permissions": { "allow": ["run_shell(npm test:*)"], "deny": ["run_shell(rm:*)"] } }
// Other keys are preserved when k2 adds a rule. A malformed file is reported (file + field) and
// never overwritten.
import { readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../../errors.js";
import { writeFileAtomic } from "../tools/atomic_write.js";
import { parseRule, type PermissionRule } from "./permission_rules.js";

export interface ProjectRules {
  allow: PermissionRule[];
  deny: PermissionRule[];
}

export function projectSettingsPath(root: string): string {
  return path.join(root, ".k2", "settings.json");
}

function readRaw(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new ConfigError(`${file}: must hold a JSON object`);
  return data as Record<string, unknown>;
}

function ruleList(file: string, perms: Record<string, unknown>, key: "allow" | "deny"): PermissionRule[] {
  const list = perms[key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new ConfigError(`${file}: "permissions.${key}" must be an array of strings`);
  return list.map((r, i) => {
    if (typeof r !== "string") throw new ConfigError(`${file}: "permissions.${key}[${i}]" must be a string`);
    return parseRule(r, `${file}: "permissions.${key}[${i}]"`);
  });
}

function permissionsObject(file: string, data: Record<string, unknown>): Record<string, unknown> {
  const perms = data.permissions ?? {};
  if (typeof perms !== "object" || perms === null || Array.isArray(perms)) throw new ConfigError(`${file}: "permissions" must be an object`);
  return perms as Record<string, unknown>;
}

export function loadProjectRules(root: string): ProjectRules {
  const file = projectSettingsPath(root);
  const perms = permissionsObject(file, readRaw(file));
  return { allow: ruleList(file, perms, "allow"), deny: ruleList(file, perms, "deny") };
}

/** Adds an allow rule to the project file (no-op if present). */
export async function saveProjectAllowRule(root: string, rule: string): Promise<void> {
  const file = projectSettingsPath(root);
  const data = readRaw(file);
  const perms = permissionsObject(file, data);
  ruleList(file, perms, "allow"); // refuse to rewrite a file we could not read back
  const allow = (perms.allow as string[] | undefined) ?? [];
  if (!allow.includes(rule)) allow.push(rule);
  data.permissions = { ...perms, allow };
  await writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`);
}
