// Registers the expert-cache commands: simulate. The action imports its implementation lazily so
// `k2 --help` loads neither the addon nor the simulator.
import type { Command } from "commander";

export function registerExpertCommands(program: Command): void {
  program
    .command("simulate")
    .description("expected expert-cache hit rate and decode tok/s per eviction policy on Macs of several memory sizes")
    .option("--trace <file>", "replay a routing trace recorded with --record-routes (default: a synthetic trace)")
    .option("--model <dir>", "model shape from this checkpoint's config.json (default: Kimi K2 Thinking)")
    .option("--tokens <n>", "synthetic trace length in tokens", "2000")
    .option("--zipf <s>", "synthetic popularity skew: expert of rank r drawn with weight r^-s (0 = uniform)", "0.9")
    .option("--reuse <p>", "synthetic probability that a slot repeats an expert of the previous token", "0.35")
    .option("--seed <n>", "synthetic trace seed", "1")
    .option("--save-trace <file>", "write the synthetic trace (route-trace format) for later --trace runs")
    .option("--warmup <n>", "leading tokens not counted (default: a quarter of the trace)")
    .option("--policy <name>", "lru | lfu | mix | all", "all")
    .option("--half-life <tokens>", "lfu/mix: tokens after which an access counts half")
    .option("--window <tokens>", "mix: tokens during which a used expert is protected")
    .option("--window-share <f>", "mix: most of the cache such protected experts may hold, in [0, 1]")
    .option("--pin-fraction <f>", "share of the cache pinned to the most requested experts, as the engine does (0 = off)", "0.125")
    .option("--repin-tokens <n>", "tokens between re-choosing the pinned experts", "32")
    .option("--profile <names>", "mac64,mac128,mac192,mac512 or all (default: all)")
    .option("--memory <GB>", "custom machine memory sizes in GB (64 or 64G), comma-separated (bandwidths: --mem-gbps, --ssd-gbps)")
    .option("--mem-gbps <n>", "memory bandwidth in GB/s (default: the profile's; 819 for --memory)")
    .option("--ssd-gbps <n>", "SSD read bandwidth in GB/s (default: the profile's; 6 for --memory)")
    .option("--budget-fraction <f>", "share of memory the engine may use", "0.75")
    .option("-c, --context <n>", "tokens of KV cache kept resident", "32768")
    .option("--plot <file.svg>", "also write an SVG of hit rate and tok/s against memory size (64..512 GB) per policy")
    .option("--json", "print the results as JSON")
    .action(async (opts) => {
      const { runSimulateCommand } = await import("../experts/simulate_command.js");
      await runSimulateCommand(opts);
    });
}
