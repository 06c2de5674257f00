// The ChatModel a run talks to: the local engine over a checkpoint folder (engine → session →
// LocalChatModel with the checkpoint's tokenizer and template), or a remote endpoint.
import path from "node:path";
import type { ChatModel } from "../../chat/chat_model.js";
import { LocalChatModel } from "../../chat/local_chat_model.js";
import { loadChatTemplate } from "../../chat/chat_template.js";
import { loadTokenizer } from "../../chat/tokenizer.js";
import type { Settings } from "../../config/settings_schema.js";
import { openEngine, type NativeEngine } from "../../engine/open_engine.js";
import type { LoadProgress } from "../../engine/types.js";
import { CheckpointError, K2Error } from "../../errors.js";
import { createRemoteChatModel } from "../../remote/create_remote_chat_model.js";

export interface OpenedModel {
  model: ChatModel;
  /** The checkpoint folder (local models). */
  dir?: string;
  engine?: NativeEngine;
  /** The engine session the model generates in (for KV-cache telemetry). */
  session?: ReturnType<NativeEngine["createSession"]>;
  loadMs: number;
}

export async function openLocalModel(dir: string, settings: Settings, onProgress?: (p: LoadProgress) => void): Promise<OpenedModel> {
  const started = performance.now();
  const engine = await openEngine(dir, {
    contextSize: settings.contextSize,
    threads: settings.threads,
    backend: settings.backend,
    defaultCpuMode: "fast",
    memoryBudget: settings.memoryBudgetGB !== undefined ? Math.round(settings.memoryBudgetGB * 1024 ** 3) : undefined,
    expertIo: settings.expertIo,
    recordRoutes: settings.recordRoutes !== undefined ? path.resolve(settings.recordRoutes) : undefined,
    onProgress,
  });
  try {
    let tokenizer;
    let template;
    try {
      tokenizer = loadTokenizer(dir);
      template = loadChatTemplate(dir);
    } catch (err) {
      if (err instanceof K2Error) throw err;
      throw new CheckpointError(dir, `tokenizer or chat template: ${(err as Error).message}`, { cause: err });
    }
    const session = engine.createSession();
    const model = new LocalChatModel({ name: path.basename(dir), contextWindow: engine.contextSize, session, tokenizer, template });
    return { model, dir, engine, session, loadMs: performance.now() - started };
  } catch (err) {
    engine.dispose();
    throw err;
  }
}

/**
 * G's OpenAI-compatible client. With --endpoint, `--model NAME` names the server's model and
 * `--context` overrides the window the server reports (the config file's local paths do not apply).
 */
export async function openRemoteModel(endpoint: string, apiKey: string | undefined, flagModel: string | undefined, flagContext: number | undefined): Promise<OpenedModel> {
  const started = performance.now();
  const model = await createRemoteChatModel({ endpoint, apiKey, model: flagModel, contextWindow: flagContext });
  return { model, loadMs: performance.now() - started };
}
