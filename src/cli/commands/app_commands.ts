// Registers the default command (interactive TUI, -p one-shots, piped input) and `k2 config`.
// Only commander is imported here: each action loads its implementation lazily, so `k2 --version`
// and `k2 --help` load neither React nor the addon.
import { Option, type Command } from "commander";

export function registerAppCommands(program: Command): void {
  // The default command's flags share names with subcommands' (-m, -p): they must only apply
  // before a subcommand name, or `k2 info --model DIR` would hand --model to the app.
  program.enablePositionalOptions();
  program
    .description("Kimi K2 Thinking in your terminal, running locally")
    .option("-p, --prompt [text]", "one-shot: answer this and exit (piped stdin is added as context; alone it is the prompt)")
    .option("-m, --model <dir>", "checkpoint folder (default: K2_MODEL, else config `model`, else the newest Kimi-K2 snapshot in ~/.cache/huggingface/hub)")
    .option("--temperature <t>", "sampling temperature (0 = greedy)")
    .option("--top-p <p>", "nucleus sampling mass")
    .option("--top-k <k>", "keep the k most likely tokens (0 = off)")
    .option("--min-p <p>", "min-p sampling threshold (0 = off)")
    .option("--seed <n>", "sampler seed, for reproducible output")
    .option("--max-tokens <n>", "most tokens generated per model step")
    .option("--context <tokens>", "context window (KV-cache capacity) in tokens")
    .option("--threads <n>", "CPU threads for the engine")
    .option("--memory-budget <size>", "memory the engine may hold: bytes, 64G, 512M or 40% of RAM (default: config memoryBudgetGB, else 75% of RAM)")
    .option("--expert-io <mode>", "how streamed experts are read: pread | mmap")
    .option("--record-routes <file>", "write every token's routed experts per layer to FILE (a route trace for k2 simulate --trace)")
    .addOption(new Option("--output-format <format>", "one-shot output").choices(["text", "json", "stream-json"]).default("text"))
    .option("--show-thinking", "show reasoning (TUI: expanded; one-shot: on stderr, with tool progress)")
    .option("--allow-tools [rules]", "let tools change files / run commands without asking (optionally only these comma-separated rules)")
    .option("--yolo", "permission mode yolo: never ask")
    .option("-c, --continue", "continue the latest session in this folder")
    .option("-r, --resume [id]", "resume a saved session (without an id: list them)")
    .option("--endpoint <url>", "use a remote OpenAI-compatible endpoint instead of a local checkpoint")
    .option("--api-key <key>", "API key for --endpoint")
    .action(async (opts) => {
      const { runApp } = await import("../app/run_app.js");
      await runApp(opts);
    });

  const config = program.command("config").description("read and write settings (k2 config path shows the file)");
  config
    .command("get <key>")
    .description("print the effective value of a setting (flags aside: env, then file, then default)")
    .action(async (key: string) => (await import("../app/config_cli.js")).configGet(key));
  config
    .command("set <key> <value>")
    .description("validate and save a setting to the config file")
    .action(async (key: string, value: string) => (await import("../app/config_cli.js")).configSet(key, value));
  config
    .command("unset <key>")
    .description("remove a setting from the config file")
    .action(async (key: string) => (await import("../app/config_cli.js")).configUnset(key));
  config
    .command("list")
    .description("every setting with its value and where it comes from")
    .action(async () => (await import("../app/config_cli.js")).configList());
  config
    .command("path")
    .description("print the config file's path")
    .action(async () => (await import("../app/config_cli.js")).configPath());
}
