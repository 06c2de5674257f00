// /model keeps the current engine when another checkpoint fails to load, so a failed load must
// leave nothing behind: an engine whose native construction throws is torn down at once, and its
// worker threads (which may not have started yet) must still shut down. This once hung the app.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeSyntheticCheckpoint } from "../../src/engine/checkpoint/synthetic_checkpoint.js";
import { openEngine } from "../../src/engine/open_engine.js";
import { EngineError } from "../../src/errors.js";

const root = mkdtempSync(path.join(os.tmpdir(), "k2-failed-load-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a checkpoint that fails to load natively", () => {
  it("fails with a clear error every time, next to a working engine, without hanging", async () => {
    // Sparse shards: the headers are valid (the TypeScript loader accepts them) but every tensor
    // reads as zeros, so the engine rejects the INT4 weight shapes while building the model.
    const bad = await writeSyntheticCheckpoint(path.join(root, "zeros"), { shards: 1, sparse: true });
    const good = await openEngine("../shared/fixtures/kimi-k2-tiny", { threads: 2 });
    try {
      for (let i = 0; i < 20; i++) {
        const err = await openEngine(bad, { threads: 4 }).then(
          (e) => {
            e.dispose();
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(EngineError);
        expect((err as Error).message).toMatch(/weight_shape/);
      }
      // The working engine is untouched.
      const s = good.createSession();
      const ids: number[] = [];
      for await (const ev of s.generate([1, 2, 3], { maxTokens: 2, temperature: 0 })) if (ev.type === "token") ids.push(ev.id);
      expect(ids).toHaveLength(2);
      s.dispose();
    } finally {
      good.dispose();
    }
  }, 120_000);
});
