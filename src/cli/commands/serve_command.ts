// Registers serve. Being built; replaced by the owning work item.
import type { Command } from "commander";

export function registerServeCommand(_program: Command): void {}
