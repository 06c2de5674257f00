// The addon in several JS environments of one process: the main thread and worker threads each
// load it, open engines and make sessions. Its per-environment state (the NativeSession class)
// must belong to each environment: a process-wide static held the class of the environment that
// loaded the addon last, and once that worker exited, the main thread's next session aborted the
// process in V8 (found running the suite with worker threads under qemu for arm64).
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { openEngine } from "../../src/engine/open_engine.js";
import { collect } from "../helpers/collect_tokens.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));
const PROMPT = [1290, 115, 835, 1297, 89, 760, 901, 438, 44, 1085];
const TOKENS = 4;

function inWorker(): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("../helpers/engine_worker.mjs", import.meta.url), {
      workerData: { dir: DIR, prompt: PROMPT, maxTokens: TOKENS },
    });
    let ids: number[] | null = null;
    w.on("message", (m: number[]) => (ids = m));
    w.on("error", reject);
    w.on("exit", (code) => (code === 0 && ids ? resolve(ids) : reject(new Error(`worker exited with ${code}`))));
  });
}

describe("engine in worker threads", () => {
  it("makes sessions on the main thread before, during and after workers that load the addon", async () => {
    const engine = await openEngine(DIR, { threads: 2, contextSize: 256 });
    try {
      const before = await collect(engine.createSession().generate(PROMPT, { temperature: 0, maxTokens: TOKENS, stopIds: [] }));
      expect(before.ids).toHaveLength(TOKENS);
      // Two workers one after the other, then one beside the main thread's own generation.
      expect(await inWorker()).toEqual(before.ids);
      expect(await inWorker()).toEqual(before.ids);
      const [side, main] = await Promise.all([
        inWorker(),
        collect(engine.createSession().generate(PROMPT, { temperature: 0, maxTokens: TOKENS, stopIds: [] })),
      ]);
      expect(side).toEqual(before.ids);
      expect(main.ids).toEqual(before.ids);
      // The workers are gone: the main thread's sessions still come from its own class.
      const after = await collect(engine.createSession().generate(PROMPT, { temperature: 0, maxTokens: TOKENS, stopIds: [] }));
      expect(after.ids).toEqual(before.ids);
    } finally {
      engine.dispose();
    }
  });
});
