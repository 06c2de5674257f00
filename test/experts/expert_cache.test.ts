// The native expert cache driven directly (ExpertCacheProbe, no model) over the tiny checkpoint:
// slot contents equal the shard bytes in both I/O modes, a prefetch and a demand for the same
// expert share one read, pinned experts survive eviction pressure, the budget bounds residency,
// and a read that fails (shard truncated while running) is a clear error, never stale bytes.
import { chmodSync, cpSync, mkdtempSync, openSync, readSync, closeSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { expertSlotBytes } from "../../src/engine/memory_plan.js";
import { loadAddon, type ExpertCacheProbeOptions } from "../../src/engine/native_addon.js";
import type { NativeLoadPlan } from "../../src/engine/native_api.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));
const TENSORS = ["gate_proj.weight_packed", "gate_proj.weight_scale", "up_proj.weight_packed", "up_proj.weight_scale", "down_proj.weight_packed", "down_proj.weight_scale"];
const MOE_LAYERS = [1, 2]; // tiny: layer 0 dense, 16 experts per MoE layer

function shardBytes(plan: NativeLoadPlan, name: string): Buffer {
  const t = plan.tensors[name]!;
  const fd = openSync(plan.files[t.file]!, "r");
  try {
    const b = Buffer.alloc(t.nbytes);
    expect(readSync(fd, b, 0, t.nbytes, t.offset)).toBe(t.nbytes);
    return b;
  } finally {
    closeSync(fd);
  }
}

const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The reads that load one expert, by the cache's rule: the whole expert in one read when its six
 * tensors are in one shard and their span fits a slot (checkpoints sort tensor names, so an
 * expert's tensors are usually adjacent), else one read per tensor.
 */
function readsOf(plan: NativeLoadPlan, layer: number, expert: number): { offset: number; nbytes: number }[] {
  const ts = TENSORS.map((t) => plan.tensors[`model.layers.${layer}.mlp.experts.${expert}.${t}`]!);
  const lo = Math.min(...ts.map((t) => t.offset));
  const hi = Math.max(...ts.map((t) => t.offset + t.nbytes));
  const region = Math.ceil((hi - lo) / 4096) * 4096 + 4096;
  if (ts.every((t) => t.file === ts[0]!.file) && region <= expertSlotBytes(plan)) return [{ offset: lo, nbytes: hi - lo }];
  return ts.map((t) => ({ offset: t.offset, nbytes: t.nbytes }));
}

const readBytesOf = (plan: NativeLoadPlan, layer: number, experts: number[]) =>
  experts.reduce((n, e) => n + readsOf(plan, layer, e).reduce((m, r) => m + r.nbytes, 0), 0);

function expectExpertBytes(plan: NativeLoadPlan, layer: number, expert: number, got: Buffer[]) {
  TENSORS.forEach((t, i) => expect(got[i]!.equals(shardBytes(plan, `model.layers.${layer}.mlp.experts.${expert}.${t}`)), `${layer}.${expert} ${t}`).toBe(true));
}

describe("expert cache", () => {
  let plan: NativeLoadPlan;
  let slot: number;
  let expertBytes: number;
  const probe = (slots: number, o: Partial<ExpertCacheProbeOptions> = {}, p = plan) =>
    new (loadAddon().ExpertCacheProbe)(p, { capacityBytes: slots * slot, pinFraction: 0, ...o });
  beforeAll(async () => {
    plan = (await loadCheckpointPlan(DIR)).plan;
    slot = expertSlotBytes(plan);
    expertBytes = TENSORS.reduce((n, t) => n + plan.tensors[`model.layers.1.mlp.experts.0.${t}`]!.nbytes, 0);
  });

  for (const io of ["pread", "mmap"] as const) {
    it(`${io}: every expert's slot holds exactly its shard bytes, read once while it stays resident`, () => {
      const c = probe(32, { io });
      expect(c.info().slots).toBe(32);
      expect(c.info().slotBytes).toBe(slot); // the TS memory plan and the native cache agree
      for (const layer of MOE_LAYERS) {
        const ids = Array.from({ length: 16 }, (_, e) => e);
        const got = c.acquire(layer, ids);
        ids.forEach((e) => expectExpertBytes(plan, layer, e, got[e]!));
        c.release(layer);
      }
      const first = c.stats();
      expect(first.misses).toBe(32);
      const all = Array.from({ length: 16 }, (_, e) => e);
      expect(first.bytesRead).toBe(readBytesOf(plan, 1, all) + readBytesOf(plan, 2, all));
      expect(first.residentBytes).toBe(32 * expertBytes);
      c.acquire(1, [3, 7]);
      c.release(1);
      expect(c.stats().hits).toBe(2);
      expect(c.stats().bytesRead).toBe(first.bytesRead);
    });
  }

  it("a demand for an expert whose prefetch is still in flight waits for that read instead of reading again", () => {
    const c = probe(8, { ioDelayMs: 150 });
    c.prefetch(2, [5, 9]);
    const got = c.acquire(2, [5]); // arrives while both prefetch reads sleep
    expectExpertBytes(plan, 2, 5, got[0]!);
    c.release(2);
    const s = c.stats();
    expect(s.prefetchIssued).toBe(2);
    expect(s.prefetchUsed).toBe(1);
    expect(s.misses).toBe(1); // it had to wait...
    expect(s.stallMs).toBeGreaterThan(0);
    // ...but the bytes were read once per expert: the prefetch's read served the demand.
    const got9 = c.acquire(2, [9]);
    expectExpertBytes(plan, 2, 9, got9[0]!);
    c.release(2);
    expect(c.stats().bytesRead).toBe(readBytesOf(plan, 2, [5, 9]));
  });

  it("a demand that finds every slot mid-prefetch waits for a read to land and evicts that guess", () => {
    const c = probe(4, { ioDelayMs: 80 });
    c.prefetch(1, [0, 1, 2, 3]);
    const got = c.acquire(1, [8, 9, 10, 11]);
    [8, 9, 10, 11].forEach((e, i) => expectExpertBytes(plan, 1, e, got[i]!));
    c.release(1);
    expect(c.stats().prefetchIssued).toBe(4);
    expect(c.stats().prefetchUsed).toBe(0);
    expect(c.stats().residentBytes).toBe(4 * expertBytes);
  });

  it("holds the requested experts it has before making room for the ones it lacks", () => {
    const c = probe(4, { policy: "lru" });
    c.acquire(1, [0, 1, 2, 3]);
    c.release(1);
    // LRU would pick 0 as the victim for 4; 0 is asked for in the same call, so 1 goes instead.
    const got = c.acquire(1, [4, 0]);
    expectExpertBytes(plan, 1, 4, got[0]!);
    expectExpertBytes(plan, 1, 0, got[1]!);
    c.release(1);
    expect(c.isResident(1, 0)).toBe(true);
    expect(c.isResident(1, 1)).toBe(false);
    expect(c.stats().hits).toBe(1);
    expect(c.stats().bytesRead).toBe(readBytesOf(plan, 1, [0, 1, 2, 3, 4]));
  });

  it("never holds more experts than its slots; evicted experts are read again", () => {
    const c = probe(5);
    for (let round = 0; round < 2; round++)
      for (let e = 0; e < 16; e++) {
        c.acquire(1, [e]);
        c.release(1);
        expect(c.stats().residentBytes).toBeLessThanOrEqual(5 * expertBytes);
      }
    let resident = 0;
    for (let e = 0; e < 16; e++) if (c.isResident(1, e)) resident++;
    expect(resident).toBe(5);
    expect(c.stats().misses).toBe(32);
    expect(c.stats().bytesRead).toBe(2 * readBytesOf(plan, 1, Array.from({ length: 16 }, (_, e) => e)));
  });

  it("refuses to hand out more experts at once than it has slots, naming the numbers", () => {
    const c = probe(4);
    expect(c.info().maxAcquire).toBe(4);
    expect(() => c.acquire(1, [0, 1, 2, 3, 4])).toThrow(/no slot for expert 4 of layer 1: all 4 slots are in use/);
    // The failed call holds nothing: the cache is still usable.
    expect(c.acquire(1, [4]).length).toBe(1);
    c.release(1);
  });

  it("pinned experts survive any amount of eviction pressure", () => {
    const c = probe(6, { policy: "lru" });
    c.acquire(1, [0, 1]);
    c.release(1);
    expect(c.pin(1, 0)).toBe(true);
    expect(c.pin(1, 15)).toBe(false); // not resident: nothing to pin
    for (let e = 2; e < 16; e++) {
      c.acquire(1, [e]);
      c.release(1);
    }
    expect(c.isResident(1, 0)).toBe(true);
    expect(c.isPinned(1, 0)).toBe(true);
    expect(c.isResident(1, 1)).toBe(false); // least recently used, not pinned: gone
    expect(c.info().maxAcquire).toBe(5);
  });

  it("pins the most requested experts by itself every repinTokens tokens", () => {
    const c = probe(8, { policy: "lru", pinFraction: 0.25, repinTokens: 4 });
    // A "token" is a pass over the layers; expert 7 of layer 1 and 3 of layer 2 are asked every time.
    for (let t = 0; t < 9; t++) {
      c.acquire(1, [7, t % 16]);
      c.release(1);
      c.acquire(2, [3, (t + 5) % 16]);
      c.release(2);
    }
    expect(c.isPinned(1, 7)).toBe(true);
    expect(c.isPinned(2, 3)).toBe(true);
    expect(c.info().maxAcquire).toBe(6);
  });

  describe("read errors", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "k2-experts-"));
      cpSync(DIR, dir, { recursive: true });
      chmodSync(dir, 0o755);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    for (const io of ["pread", "mmap"] as const) {
      it(`${io}: a shard truncated while running fails the read with the shard and offset, and the cache recovers for intact experts`, async () => {
        const shard = join(dir, "model-00001-of-00002.safetensors");
        cpSync(join(DIR, "model-00001-of-00002.safetensors"), shard);
        chmodSync(shard, 0o644);
        const p = (await loadCheckpointPlan(dir)).plan;
        // In the tiny fixture the last tensor of shard 1 is an expert tensor: cut into it.
        const victim = p.tensors["model.layers.1.mlp.experts.15.down_proj.weight_packed"]!;
        const c = probe(6, { io }, p);
        expectExpertBytes(p, 1, 14, c.acquire(1, [14])[0]!);
        c.release(1);
        truncateSync(shard, victim.offset + 100);
        // The read that covers the cut tensor (the whole expert, or the tensor alone).
        const read = readsOf(p, 1, 15).find((r) => r.offset <= victim.offset && victim.offset < r.offset + r.nbytes)!;
        const got = victim.offset + 100 - read.offset;
        expect(() => c.acquire(1, [15])).toThrow(
          new RegExp(`expert read failed: ${escape(shard)} at offset ${read.offset} \\(\\+${read.nbytes} bytes\\): short read: got ${got} of ${read.nbytes} bytes; the file is now ${victim.offset + 100} bytes`),
        );
        expect(c.isResident(1, 15)).toBe(false);
        // Again: the failed slot is not served as if it were loaded.
        expect(() => c.acquire(1, [15])).toThrow(/short read/);
        expect(c.isResident(1, 14)).toBe(true);
        expectExpertBytes(p, 1, 14, c.acquire(1, [14])[0]!);
        c.release(1);
      });
    }
  });
});
