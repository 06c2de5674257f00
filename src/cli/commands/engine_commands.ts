// Registers logits, generate, bench, info. Being built; replaced by the owning work item.
import type { Command } from "commander";

export function registerEngineCommands(_program: Command): void {}
