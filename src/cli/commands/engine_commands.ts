// Registers the engine-level commands: logits, generate, bench, info. Each action imports its
// implementation lazily so `k2 --help` loads neither the addon nor the loader.
import type { Command } from "commander";

function engineFlags(cmd: Command): Command {
  return cmd
    .requiredOption("-m, --model <dir>", "checkpoint directory (config.json, safetensors shards)")
    .option("-t, --threads <n>", "CPU threads (default: all cores)")
    .option("--cpu-mode <mode>", "exact | fast (default: $K2_CPU_MODE, else exact)")
    .option("--backend <name>", "cpu | metal | metal-emu (default: $K2_BACKEND, else cpu)")
    .option("--memory-budget <size>", "memory the engine may hold: bytes, 64G, 512M or 40% of RAM (default: 75% of RAM); experts beyond it stream from disk")
    .option("--expert-io <mode>", "how streamed experts are read: pread (direct I/O) | mmap (default: pread)")
    .option("--record-routes <file>", "write every token's routed experts per layer to FILE (a route trace for k2 simulate --trace)");
}

export function registerEngineCommands(program: Command): void {
  engineFlags(program.command("logits").description("print the logits after every prompt position (full prefill) as JSON"))
    .requiredOption("--ids <ids>", "prompt token ids, comma-separated")
    .action(async (opts) => {
      const { runLogitsCommand } = await import("../engine/logits_command.js");
      await runLogitsCommand(opts);
    });

  engineFlags(program.command("generate").description("generate token ids from prompt token ids"))
    .requiredOption("--ids <ids>", "prompt token ids, comma-separated")
    .option("-n, --max-tokens <n>", "tokens to generate", "32")
    .option("--temperature <t>", "0 = greedy (default: generation_config.json)")
    .option("--top-p <p>", "nucleus sampling mass (0, 1]")
    .option("--top-k <k>", "keep the k most likely tokens (0 = off)")
    .option("--min-p <p>", "drop tokens below p x the best probability (0 = off)")
    .option("--repetition-penalty <r>", "1 = off")
    .option("--presence-penalty <r>", "0 = off")
    .option("--seed <n>", "sampling seed (reproducible)")
    .option("--stop-ids <ids>", "stop after emitting any of these ids, comma-separated (default: the checkpoint's eos_token_id)")
    .option("--ignore-eos", "do not stop at the end-of-turn token")
    .option("--json", "print {\"ids\": [...], \"stats\": {...}} at the end instead of streaming ids")
    .action(async (opts) => {
      const { runGenerateCommand } = await import("../engine/generate_command.js");
      await runGenerateCommand(opts);
    });

  engineFlags(program.command("bench").description("prefill (pp) and decode (tg) throughput, median of repetitions after a warm-up"))
    .option("-p, --prompt-tokens <n>", "prompt length for the prefill test", "512")
    .option("-n, --gen-tokens <n>", "tokens for the decode test", "128")
    .option("-d, --depth <n>", "context already cached when the decode test starts (tg at depth, as llama-bench -d)", "0")
    .option("-r, --reps <n>", "measured repetitions (after one warm-up)", "3")
    .option("--mode <mode>", "exact | fast (same as --cpu-mode)")
    .option("--json", "print the result as JSON")
    .action(async (opts) => {
      const { runBenchCommand } = await import("../engine/bench_command.js");
      await runBenchCommand(opts);
    });

  program
    .command("info")
    .description("architecture summary, parameter and byte counts, memory needed (reads headers only)")
    .requiredOption("-m, --model <dir>", "checkpoint directory")
    .option("-c, --context <n>", "context length for the KV-cache estimate", "32768")
    .option("--memory-budget <size>", "budget for the memory plan: bytes, 64G, 512M or 40% of RAM (default: 75% of RAM)")
    .option("--json", "print the summary as JSON")
    .action(async (opts) => {
      const { runInfoCommand } = await import("../engine/info_command.js");
      await runInfoCommand(opts);
    });
}
