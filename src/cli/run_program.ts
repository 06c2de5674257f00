// Runs the commander program and maps failures to the documented exit codes:
// 0 ok, 1 runtime error, 2 usage error, 130 interrupted.
import { Command, CommanderError } from "commander";
import { K2Error, UsageError } from "../errors.js";

export async function runProgram(program: Command, argv: string[]): Promise<void> {
  // Subcommands copy settings only when created, and they are registered before this runs: apply to each.
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    // Commander's own usage errors ("error: unknown option …") take k2's one-line form.
    cmd.configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, "k2: ")) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  // The root command has its own -m/-p/-c/-r/--threads (interactive app): without this it would
  // swallow them after a subcommand name too (`k2 logits -m DIR`).
  program.enablePositionalOptions();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`k2: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof K2Error) {
      process.stderr.write(`k2: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`k2: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
