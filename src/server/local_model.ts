// Opens a checkpoint directory as a ChatModel for the server: engine + one KV-cache session (the
// server generates one request at a time, so consecutive turns of a conversation reuse the cache
// prefix) + the checkpoint's own tokenizer and chat template.
import { basename, resolve, sep } from "node:path";
import type { ChatModel } from "../chat/chat_model.js";
import { loadChatTemplate } from "../chat/chat_template.js";
import { LocalChatModel } from "../chat/local_chat_model.js";
import { loadTokenizer } from "../chat/tokenizer.js";
import type { MemoryPlan } from "../engine/memory_plan.js";
import { openEngine } from "../engine/open_engine.js";
import type { LoadOptions } from "../engine/types.js";

export interface OpenedLocalModel {
  model: ChatModel;
  /** How the memory budget was split (src/engine/memory_plan.ts). */
  memoryPlan: MemoryPlan;
  /** Releases the session and the engine (unmaps the weights). */
  close(): void;
}

/** The id clients see: "ORG/NAME" for a Hugging Face cache snapshot (whose folder name is a commit
 *  hash), else the checkpoint folder's name. */
export function servedModelName(dir: string): string {
  const parts = resolve(dir).split(sep);
  const n = parts.length;
  if (n >= 3 && parts[n - 2] === "snapshots") {
    const m = /^models--([^-].*?)--(.+)$/.exec(parts[n - 3]!);
    if (m) return `${m[1]}/${m[2]}`;
  }
  return basename(resolve(dir));
}

export async function openLocalChatModel(dir: string, load: LoadOptions = {}): Promise<OpenedLocalModel> {
  const tokenizer = loadTokenizer(dir);
  const template = loadChatTemplate(dir);
  const engine = await openEngine(dir, { defaultCpuMode: "fast", ...load });
  try {
    const session = engine.createSession();
    const model = new LocalChatModel({ name: servedModelName(dir), contextWindow: engine.contextSize, session, tokenizer, template });
    return {
      model,
      memoryPlan: engine.memoryPlan,
      close: () => {
        model.dispose();
        engine.dispose();
      },
    };
  } catch (err) {
    engine.dispose();
    throw err;
  }
}
