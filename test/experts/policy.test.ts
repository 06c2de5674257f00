// Eviction policies (native-metal/runtime/expert_cache_policy*): victim order, decay, pinning and
// the evictable filter, driven op by op through the addon.
import { describe, expect, it } from "vitest";
import { expertSimAddon, POLICY_NAMES } from "../../src/cli/experts/sim_addon.js";

const addon = expertSimAddon();
const run = (policy: string, ops: string[], params?: { halfLife?: number; window?: number; windowShare?: number }, nKeys = 64) =>
  addon.runEvictionPolicy(policy, nKeys, ops, params);

/** Miss path as the cache does it: access, then insert. */
const load = (...keys: number[]) => keys.flatMap((k) => [`access ${k}`, `insert ${k}`]);

describe("lru", () => {
  it("evicts in order of last access", () => {
    expect(run("lru", [...load(1, 2, 3), "access 1", "victim", "evict 2", "victim", "evict 3", "victim"])).toEqual([2, 3, 1]);
  });
  it("skips keys the caller refuses", () => {
    expect(run("lru", [...load(1, 2, 3), "victim !1", "victim !1,2", "victim !1,2,3"])).toEqual([2, 3, null]);
  });
});

describe("lfu", () => {
  it("evicts the least used key; ties go to the least recent", () => {
    const ops = [...load(1, 2, 3), "access 1", "access 1", "access 3", "token", "victim", "evict 2", "victim"];
    expect(run("lfu", ops)).toEqual([2, 3]);
  });
  it("old popularity fades: after many tokens a few recent accesses win", () => {
    const early = Array.from({ length: 8 }, () => "access 1");
    const ticks = Array.from({ length: 40 }, () => "token");
    const ops = [...load(1, 2), ...early, ...ticks, "access 2", "access 2", "victim"];
    // 8 accesses 40 tokens ago with a 4-token half life weigh 8/2^10 < 2 fresh ones.
    expect(run("lfu", ops, { halfLife: 4 })).toEqual([1]);
    // Without much decay the 8 old accesses still win.
    expect(run("lfu", ops, { halfLife: 10_000 })).toEqual([2]);
  });
  it("remembers counts of evicted keys", () => {
    const ops = [...load(1, 2), "access 1", "access 1", "evict 1", "token", ...load(3), "insert 1", "victim"];
    // 1 came back with its 3 earlier accesses: 2 and 3 (one each; 2 older) go first.
    expect(run("lfu", ops)).toEqual([2]);
  });
  it("survives rescaling of the scores after very many tokens", () => {
    const ticks = Array.from({ length: 3000 }, () => "token");
    const ops = [...load(1, 2), "access 1", ...ticks, ...load(3), "access 3", "victim", "evict 1", "victim"];
    // Half life 1 token: the increment passes 1e160 after ~532 tokens and is rescaled several times.
    expect(run("lfu", ops, { halfLife: 1 })).toEqual([1, 2]);
  });
});

describe("mix", () => {
  it("protects keys used within the window and evicts the least used older one", () => {
    const ops = [...load(1, 2), "access 1", "access 1", "token", "token", "token", ...load(3), "token", "victim"];
    // window 2: 1 and 2 are old (3 tokens ago), 3 is recent; 2 has fewer accesses.
    expect(run("mix", ops, { window: 2, windowShare: 1 })).toEqual([2]);
  });
  it("falls back to the oldest recent key when every old key is refused", () => {
    const ops = [...load(1), "token", "token", "token", ...load(2, 3), "victim !1"];
    expect(run("mix", ops, { window: 2, windowShare: 1 })).toEqual([2]);
  });
  it("recent keys beyond the window share join the old set, oldest first", () => {
    // 4 resident, share 0.5: at most 2 recent. 1 and 2 aged out by the cap, not by time.
    const ops = [...load(1, 2, 3, 4), "access 1", "access 1", "victim"];
    expect(run("mix", ops, { window: 100, windowShare: 0.5 })).toEqual([2]);
    // With room for all of them, the oldest recent key goes only because nothing is old.
    expect(run("mix", ops, { window: 100, windowShare: 1 })).toEqual([2]);
    expect(run("mix", [...load(1, 2, 3, 4), "access 2", "access 2", "access 1", "victim"], { window: 100, windowShare: 1 })).toEqual([3]);
    expect(run("mix", [...load(1, 2, 3, 4), "access 2", "access 2", "access 1", "victim"], { window: 100, windowShare: 0.5 })).toEqual([3]);
  });
  it("a key used again leaves the old set", () => {
    const ops = [...load(1, 2), "token", "token", "token", "access 1", "access 1", "victim"];
    expect(run("mix", ops, { window: 2, windowShare: 1 })).toEqual([2]);
  });
});

describe.each(POLICY_NAMES)("%s common rules", (policy) => {
  it("never picks a pinned key, and picks it again once unpinned", () => {
    expect(run(policy, [...load(1, 2), "pin 1", "victim", "evict 2", "victim", "unpin 1", "victim"])).toEqual([2, null, 1]);
  });
  it("pinning before insert holds", () => {
    expect(run(policy, ["pin 5", ...load(5), "victim"])).toEqual([null]);
  });
  it("an evicted key is never a victim", () => {
    expect(run(policy, [...load(1, 2), "evict 1", "victim", "evict 2", "victim"])).toEqual([2, null]);
  });
  it("bad keys and ops are clear errors", () => {
    expect(() => run(policy, ["access 64"])).toThrow(/key 64 outside 0\.\.63/);
    expect(() => run(policy, ["access x"])).toThrow(/bad key "x"/);
    expect(() => run(policy, ["jump 1"])).toThrow(/unknown op "jump 1"/);
  });
});

it("unknown policy and bad parameters are clear errors", () => {
  expect(() => run("fifo", [])).toThrow(/unknown eviction policy "fifo" \(expected lru, lfu or mix\)/);
  expect(() => run("lfu", [], { halfLife: 0 })).toThrow(/half life must be a positive/);
});

it("every policy keeps a full cache consistent over a long random run", () => {
  // A 16-slot cache over 64 keys: after every miss exactly one resident, non-refused key goes.
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % 64;
  for (const policy of POLICY_NAMES) {
    const history: string[] = [];
    const resident = new Set<number>();
    for (let step = 0; step < 200; step++) {
      const k = rnd();
      const ops = [`access ${k}`];
      if (!resident.has(k)) {
        if (resident.size === 16) {
          // Replay the whole history so far plus one victim query (the addon keeps no state).
          const [v] = run(policy, [...history, `access ${k}`, `victim !${k}`]);
          expect(v).not.toBeNull();
          expect(resident.has(v!)).toBe(true);
          resident.delete(v!);
          ops.push(`evict ${v}`);
        }
        resident.add(k);
        ops.push(`insert ${k}`);
      }
      ops.push("token");
      history.push(...ops);
    }
  }
});
