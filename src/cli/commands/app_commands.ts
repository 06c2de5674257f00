// Registers the interactive app, -p one-shots and config. Being built; replaced by the owning work item.
import type { Command } from "commander";

export function registerAppCommands(_program: Command): void {}
