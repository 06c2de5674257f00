// EngineSession behaviour on the tiny checkpoint: prefix reuse, stop ids, cancellation through
// AbortSignal and early break, seeded sampling, truncation and input errors.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEngine, type NativeEngine } from "../../src/engine/open_engine.js";
import { CheckpointError, UsageError } from "../../src/errors.js";
import type { GenerationStats } from "../../src/engine/types.js";
import { collect } from "../helpers/collect_tokens.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));
const PROMPT = [1290, 115, 835, 1297, 89, 760, 901, 438, 44, 1085];

describe("engine session", () => {
  let engine: NativeEngine;
  beforeAll(async () => {
    engine = await openEngine(DIR, { threads: 2, contextSize: 256 });
  });
  afterAll(() => engine?.dispose());

  it("reuses the cached prefix of a follow-up prompt and prefills only the rest", async () => {
    const s = engine.createSession();
    const first = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 5, stopIds: [] }));
    expect(first.stats.reusedTokens).toBe(0);
    expect(first.stats.prefilledTokens).toBe(PROMPT.length);
    // Next turn: the whole previous exchange plus new tokens.
    const next = [...PROMPT, ...first.ids, 5, 6, 7];
    const second = await collect(s.generate(next, { temperature: 0, maxTokens: 3, stopIds: [] }));
    // Everything the cache held (prompt + all generated but the last sampled token) is reused.
    expect(second.stats.reusedTokens).toBe(PROMPT.length + first.ids.length - 1);
    expect(second.stats.prefilledTokens).toBe(next.length - second.stats.reusedTokens);
    // A fresh session computing the same prompt from scratch produces the same tokens.
    const fresh = engine.createSession();
    const third = await collect(fresh.generate(next, { temperature: 0, maxTokens: 3, stopIds: [] }));
    expect(third.ids).toEqual(second.ids);
    expect(third.stats.reusedTokens).toBe(0);
    s.dispose();
    fresh.dispose();
  });

  it("re-runs the last token when the whole prompt is cached, and handles a diverging prompt", async () => {
    const s = engine.createSession();
    const a = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 1, stopIds: [] }));
    const again = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 1, stopIds: [] }));
    expect(again.stats.reusedTokens).toBe(PROMPT.length - 1);
    expect(again.stats.prefilledTokens).toBe(1);
    expect(again.ids).toEqual(a.ids);
    const diverged = [...PROMPT.slice(0, 4), 9, 9];
    const d = await collect(s.generate(diverged, { temperature: 0, maxTokens: 1, stopIds: [] }));
    expect(d.stats.reusedTokens).toBe(4);
    expect(s.tokens).toEqual(diverged);
    s.dispose();
  });

  it("stops after emitting a stop id", async () => {
    const s = engine.createSession();
    const free = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 6, stopIds: [] }));
    const stopAt = free.ids[2]!;
    const firstIndex = free.ids.indexOf(stopAt);
    const stopped = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 6, stopIds: [stopAt] }));
    expect(stopped.ids).toEqual(free.ids.slice(0, firstIndex + 1));
    expect(stopped.stats.finishReason).toBe("stop");
    s.dispose();
  });

  it("seeded sampling is reproducible and differs across seeds", async () => {
    const s = engine.createSession();
    const opts = { temperature: 1.5, topK: 50, topP: 0.95, maxTokens: 12, stopIds: [] };
    const a = await collect(s.generate(PROMPT, { ...opts, seed: 7 }));
    const b = await collect(s.generate(PROMPT, { ...opts, seed: 7 }));
    const c = await collect(s.generate(PROMPT, { ...opts, seed: 8 }));
    expect(a.ids).toEqual(b.ids);
    expect(c.ids).not.toEqual(a.ids);
    s.dispose();
  });

  it("an aborted signal cancels the generation with finishReason cancelled", async () => {
    // Room for thousands of tokens, so the native loop cannot finish before the abort lands.
    const roomy = await openEngine(DIR, { threads: 2, contextSize: 8192 });
    const s = roomy.createSession();
    const ac = new AbortController();
    const ids: number[] = [];
    let stats: GenerationStats | undefined;
    for await (const ev of s.generate(PROMPT, { temperature: 0, maxTokens: 8000, stopIds: [] }, ac.signal)) {
      if (ev.type === "token") {
        ids.push(ev.id);
        if (ids.length === 3) ac.abort();
      } else stats = ev.stats;
    }
    expect(stats?.finishReason).toBe("cancelled");
    expect(ids.length).toBeLessThan(8000);
    // The session is usable right after.
    const next = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 2, stopIds: [] }));
    expect(next.ids.length).toBe(2);
    s.dispose();
    roomy.dispose();
  });

  it("a cancel during a long prefill stops at a chunk boundary; the next turn reuses what was prefilled", async () => {
    const roomy = await openEngine(DIR, { threads: 2, contextSize: 4200 });
    const s = roomy.createSession();
    const long = Array.from({ length: 4096 }, (_, i) => (i * 7919) % 1280);
    const ac = new AbortController();
    const it = s.generate(long, { temperature: 0, maxTokens: 4, stopIds: [] }, ac.signal)[Symbol.asyncIterator]();
    const first = it.next(); // starts the native job
    // Once it runs: the cancel lands inside one of the eight 512-token chunks (or before the first).
    setImmediate(() => ac.abort());
    const ids: number[] = [];
    let stats: GenerationStats | undefined;
    for (let r = await first; !r.done; r = await it.next()) {
      if (r.value.type === "token") ids.push(r.value.id);
      else stats = r.value.stats;
    }
    expect(stats?.finishReason).toBe("cancelled");
    expect(ids).toEqual([]);
    const prefilled = stats!.prefilledTokens;
    expect(prefilled).toBeLessThan(long.length);
    expect(prefilled % 512).toBe(0);
    expect(s.tokens).toEqual(long.slice(0, prefilled));
    const rest = await collect(s.generate(long, { temperature: 0, maxTokens: 2, stopIds: [] }));
    expect(rest.stats.reusedTokens).toBe(prefilled);
    expect(rest.ids).toHaveLength(2);
    s.dispose();
    roomy.dispose();
  });

  it("an already-aborted request starts nothing: no prefill, no tokens, the cached prefix kept", async () => {
    const s = engine.createSession();
    await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 2, stopIds: [] }));
    const cached = s.tokens.slice();
    const ac = new AbortController();
    ac.abort();
    const longer = [...cached, 7, 8, 9];
    const cut = await collect(s.generate(longer, { temperature: 0, maxTokens: 4, stopIds: [] }, ac.signal));
    expect(cut.stats.finishReason).toBe("cancelled");
    expect(cut.ids).toEqual([]);
    expect(cut.stats.prefilledTokens).toBe(0);
    expect(cut.stats.reusedTokens).toBe(cached.length);
    expect(s.tokens).toEqual(cached);
    s.dispose();
  });

  it("a consumer that breaks early leaves the session usable", async () => {
    const s = engine.createSession();
    for await (const ev of s.generate(PROMPT, { temperature: 0, maxTokens: 100, stopIds: [] })) {
      if (ev.type === "token") break;
    }
    const rows = await s.logits(PROMPT.slice(0, 3));
    expect(rows.length).toBe(3);
    expect(s.tokens).toEqual(PROMPT.slice(0, 3));
    s.dispose();
  });

  it("truncate keeps a prefix and reports KV bytes", async () => {
    const s = engine.createSession();
    await s.logits(PROMPT);
    const full = s.kvBytes();
    expect(full).toBeGreaterThan(0);
    s.truncate(4);
    expect(s.tokens).toEqual(PROMPT.slice(0, 4));
    expect(s.kvBytes()).toBe((full / PROMPT.length) * 4);
    expect(() => s.truncate(-1)).toThrow(UsageError);
    s.dispose();
  });

  it("rejects token ids outside the vocabulary and prompts longer than the context", async () => {
    const s = engine.createSession();
    expect(() => s.generate([1, 99999], { maxTokens: 1 })).toThrow(/token id 99999 at index 1/);
    await expect(s.logits([-1])).rejects.toThrow(UsageError);
    await expect(s.logits([])).rejects.toThrow(/no token ids/);
    const long = Array.from({ length: 300 }, (_, i) => i % 1000);
    await expect(s.logits(long)).rejects.toThrow(/context full: 0 cached \+ 300 new tokens exceed the KV cache capacity of 256/);
    // The failed prefill left nothing half-written.
    expect(s.tokens).toEqual([]);
    s.dispose();
  });

  it("reaching the context capacity ends generation with finishReason length", async () => {
    const small = await openEngine(DIR, { threads: 1, contextSize: 14 });
    const s = small.createSession();
    const r = await collect(s.generate(PROMPT, { temperature: 0, maxTokens: 50, stopIds: [] }));
    expect(r.stats.finishReason).toBe("length");
    expect(r.ids.length).toBe(14 - PROMPT.length + 1);
    s.dispose();
    small.dispose();
  });

  it("a missing checkpoint directory is a CheckpointError", async () => {
    await expect(openEngine("/nonexistent/k2")).rejects.toThrow(CheckpointError);
  });
});
