// Registers `k2 serve`: the OpenAI-compatible HTTP server over a local checkpoint. The action
// imports the server lazily so `k2 --help` loads neither node:http handlers nor the addon.
import type { Command } from "commander";

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve the model over an OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models, GET /health)")
    .option("-m, --model <dir>", "checkpoint directory (default: $K2_MODEL, else the newest Kimi-K2 snapshot in the Hugging Face cache)")
    .option("--host <addr>", "address to bind (loopback unless told otherwise)", "127.0.0.1")
    .option("--port <n>", "TCP port (0 = any free port)", "8080")
    .option("--api-key <key>", "require `Authorization: Bearer <key>` on /v1 routes (default: $K2_API_KEY)")
    .option("-c, --context <n>", "KV-cache capacity in tokens")
    .option("--max-queue <n>", "requests that may wait behind the running one before 429", "16")
    .option("--max-body-mb <n>", "request body size limit in MiB (413 beyond)", "8")
    .option("-t, --threads <n>", "CPU threads (default: all cores)")
    .option("--cpu-mode <mode>", "exact | fast (default: $K2_CPU_MODE, else exact)")
    .option("--backend <name>", "cpu | metal | metal-emu (default: $K2_BACKEND, else cpu)")
    .option("--memory-budget <size>", "memory the engine may hold: bytes, 64G, 512M or 40% of RAM (default: 75% of RAM)")
    .option("--expert-io <mode>", "how streamed experts are read: pread | mmap (default: pread)")
    .action(async (opts) => {
      const { runServeCommand } = await import("../../server/run_serve.js");
      await runServeCommand(opts);
    });
}
