// Registers tokenize, detokenize, template. Being built; replaced by the owning work item.
import type { Command } from "commander";

export function registerTokenizerCommands(_program: Command): void {}
