// Where k2 keeps its settings file and its data (sessions, input history). K2_HOME puts both
// under one folder (handy for tests and portable installs); otherwise the platform's convention,
// spelled out here rather than left to env-paths so the folder is plainly `k2` (no `-nodejs`).
import os from "node:os";
import path from "node:path";

export interface K2Paths {
  /** Folder holding config.json. */
  configDir: string;
  /** Folder holding sessions/ and history. */
  dataDir: string;
}

export function k2Paths(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): K2Paths {
  const home = env.K2_HOME;
  if (home !== undefined && home !== "") {
    const root = path.resolve(home);
    return { configDir: root, dataDir: root };
  }
  const userHome = env.HOME !== undefined && env.HOME !== "" ? env.HOME : os.homedir();
  if (platform === "darwin") {
    return {
      configDir: path.join(userHome, "Library", "Preferences", "k2"),
      dataDir: path.join(userHome, "Library", "Application Support", "k2"),
    };
  }
  const xdgConfig = env.XDG_CONFIG_HOME !== undefined && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(userHome, ".config");
  const xdgData = env.XDG_DATA_HOME !== undefined && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(userHome, ".local", "share");
  return { configDir: path.join(xdgConfig, "k2"), dataDir: path.join(xdgData, "k2") };
}

export function configFilePath(paths: K2Paths = k2Paths()): string {
  return path.join(paths.configDir, "config.json");
}

export function sessionsDir(paths: K2Paths = k2Paths()): string {
  return path.join(paths.dataDir, "sessions");
}

export function historyFilePath(paths: K2Paths = k2Paths()): string {
  return path.join(paths.dataDir, "history.jsonl");
}
