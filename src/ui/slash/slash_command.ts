// A slash command: one file each under src/ui/slash/, listed in the palette with its description.
import type { LoadProgress } from "../../engine/types.js";
import type { AppServices, SessionDriver } from "../session_driver.js";

export interface SlashContext {
  readonly driver: SessionDriver;
  readonly services: AppServices;
  /** Prints a line into the transcript. */
  notice(text: string, tone?: "info" | "warn" | "error"): void;
  /** Empties the screen and the transcript view. */
  clearScreen(): void;
  /** Swaps in another conversation (after /clear or /resume). */
  replaceDriver(driver: SessionDriver): void;
  /** Shows or hides reasoning; returns the new setting. */
  toggleThinking(): boolean;
  /** Sends `text` to the agent as a user turn, shown in the transcript as `shownAs` (used by /init). */
  submit(text: string, shownAs?: string): void;
  /** Runs /compact. */
  compact(focus?: string): void;
  exit(): void;
  /** A turn, compaction or task is running. */
  readonly busy: boolean;
  /**
   * Runs a long task (loading a model) with a live status line; prompts wait until it ends.
   * `work` reports loader progress; an error becomes an error notice.
   */
  runTask(label: string, work: (onProgress: (p: LoadProgress) => void) => Promise<void>): void;
  /** The registered commands (for /help). */
  readonly commands: readonly SlashCommand[];
}

export interface SlashCommand {
  name: string;
  description: string;
  /** Shown after the name in /help, e.g. "[id]". */
  args?: string;
  run(args: string, ctx: SlashContext): void;
}
