// `k2 serve`: opens the checkpoint, starts the OpenAI-compatible server, prints where it listens,
// and on SIGINT/SIGTERM cancels running generations, closes connections and releases the engine.
import { UsageError } from "../errors.js";
import { loadOptionsFromFlags, parseIntFlag, type CommonEngineFlags } from "../cli/engine/engine_flags.js";
import { locateModel } from "../config/model_locator.js";
import { formatMemoryPlan } from "../engine/memory_plan.js";
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_QUEUE, startK2Server } from "./k2_server.js";
import { openLocalChatModel } from "./local_model.js";

export interface ServeFlags extends Omit<CommonEngineFlags, "model"> {
  model?: string;
  host: string;
  port: string;
  apiKey?: string;
  context?: string;
  maxQueue?: string;
  maxBodyMb?: string;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export async function runServeCommand(flags: ServeFlags): Promise<void> {
  const port = parseIntFlag("--port", flags.port, 0, 65535)!;
  const maxQueue = parseIntFlag("--max-queue", flags.maxQueue, 0, 100_000) ?? DEFAULT_MAX_QUEUE;
  const maxBodyMb = parseIntFlag("--max-body-mb", flags.maxBodyMb, 1, 4096);
  const context = parseIntFlag("--context", flags.context, 1);
  if (flags.host.trim() === "") throw new UsageError("--host: expected an address to bind, e.g. 127.0.0.1");
  if (flags.apiKey !== undefined && flags.apiKey.trim() === "") throw new UsageError("--api-key: must not be empty");
  const apiKey = flags.apiKey ?? (process.env.K2_API_KEY || undefined);
  const dir = locateModel(flags.model ?? (process.env.K2_MODEL || undefined));
  const load = loadOptionsFromFlags({ ...flags, model: dir }, context);

  const opened = await openLocalChatModel(dir, load);
  let server;
  try {
    server = await startK2Server({
      model: opened.model,
      host: flags.host,
      port,
      apiKey,
      maxQueue,
      maxBodyBytes: maxBodyMb !== undefined ? maxBodyMb * 1024 * 1024 : DEFAULT_MAX_BODY_BYTES,
      log: (line) => process.stderr.write(`k2 serve: ${line}\n`),
    });
  } catch (err) {
    opened.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`--port: ${flags.host}:${port} is already in use`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`--host: cannot bind ${flags.host} on this machine`);
    if (code === "EACCES") throw new UsageError(`--port: permission denied binding ${flags.host}:${port}`);
    throw err;
  }
  if (!LOOPBACK.has(flags.host) && apiKey === undefined) {
    process.stderr.write(`k2 serve: warning: listening on ${flags.host} without --api-key; anyone who can reach this address can use the model\n`);
  }
  if (opened.memoryPlan.streaming) process.stderr.write(`k2 serve: memory: ${formatMemoryPlan(opened.memoryPlan)}\n`);
  process.stdout.write(`k2 serve: ${opened.model.name} (context ${opened.model.contextWindow} tokens) listening on ${server.url}/v1\n`);

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await server.close();
  opened.close();
}
