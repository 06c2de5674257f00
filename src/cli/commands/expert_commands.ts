// Registers simulate, convert. Being built; replaced by the owning work item.
import type { Command } from "commander";

export function registerExpertCommands(_program: Command): void {}
