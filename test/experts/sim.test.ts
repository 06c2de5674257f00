// The expert-cache simulator (native-metal/runtime/expert_cache_sim*, src/cli/experts/): cache
// sanity on small shapes, the route-trace file format, and bad input through `k2 simulate`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expertSimAddon, POLICY_NAMES, type RouteSource } from "../../src/cli/experts/sim_addon.js";
import type { RouteShape } from "../../src/cli/experts/model_cost_shape.js";

const addon = expertSimAddon();
const BIN = "dist/src/cli/main.js";
const SHAPE: RouteShape = { nLayers: 5, moeLayers: [1, 2, 3, 4], nExperts: 32, topK: 4 };
const N_KEYS = 4 * 32;
const synthetic = (tokens: number, seed = 3, zipf = 0.9, reuse = 0.35): RouteSource => ({ shape: SHAPE, synthetic: { tokens, zipf, reuse, seed } });

/** A trace file in the documented format (docs/experts.md), written byte by byte here. */
function traceBytes(shape: RouteShape, records: number[][], opts: { magic?: string; version?: number } = {}): Buffer {
  const head = Buffer.alloc(32 + 4 * shape.moeLayers.length);
  head.write(opts.magic ?? "K2ROUTES", 0, "latin1");
  [opts.version ?? 1, shape.nLayers, shape.moeLayers.length, shape.nExperts, shape.topK, 0].forEach((v, i) => head.writeUInt32LE(v, 8 + 4 * i));
  shape.moeLayers.forEach((l, i) => head.writeUInt32LE(l, 32 + 4 * i));
  const body = Buffer.alloc(records.length * shape.moeLayers.length * shape.topK * 2);
  records.flat().forEach((id, i) => body.writeUInt16LE(id, 2 * i));
  return Buffer.concat([head, body]);
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "k2-sim-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hitRate = (r: { hits: number; misses: number }) => r.hits / (r.hits + r.misses);

describe("cache sanity", () => {
  it("lru: more memory never lowers the hit rate on the same trace", () => {
    const caps = [4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128];
    for (const seed of [1, 2, 3]) {
      const out = addon.simulateExpertCache(synthetic(400, seed), caps.map((capacity) => ({ policy: "lru" as const, capacity, warmup: 0 })));
      const rates = out.runs.map(hitRate);
      for (let i = 1; i < rates.length; i++) expect(rates[i]!).toBeGreaterThanOrEqual(rates[i - 1]!);
      expect(rates[rates.length - 1]!).toBeGreaterThan(rates[0]!);
    }
  });

  it.each(POLICY_NAMES)("%s: when every expert fits, every access after the warm-up hits", (policy) => {
    // Tokens 0..7 use all 32 experts of each layer (4 per token); then arbitrary routing.
    const records: number[][] = [];
    for (let t = 0; t < 40; t++) {
      const rec: number[] = [];
      for (let m = 0; m < 4; m++) for (let j = 0; j < 4; j++) rec.push(t < 8 ? (t * 4 + j) % 32 : (t * 7 + m * 5 + j * 9) % 32);
      records.push(rec);
    }
    const path = join(dir, "all-fit.k2routes");
    writeFileSync(path, traceBytes(SHAPE, records));
    const [r] = addon.simulateExpertCache({ trace: path }, [{ policy, capacity: N_KEYS, warmup: 8 }]).runs;
    expect(r).toMatchObject({ warmupHits: 0, warmupMisses: 8 * 16, hits: 32 * 16, misses: 0 });
    expect(Array.from(r!.missesPerToken)).toEqual(new Array(32).fill(0));
  });

  it.each(POLICY_NAMES)("%s: counts add up and per-token misses match the total", (policy) => {
    const out = addon.simulateExpertCache(synthetic(300), [{ policy, capacity: 40, warmup: 50 }]);
    const r = out.runs[0]!;
    expect(r.warmup).toBe(50);
    expect(r.hits + r.misses).toBe(250 * 16);
    expect(r.warmupHits + r.warmupMisses).toBe(50 * 16);
    expect(r.missesPerToken).toHaveLength(250);
    expect(Array.from(r.missesPerToken).reduce((a, b) => a + b, 0)).toBe(r.misses);
  });

  it("uniform routing with no reuse hits about capacity / experts", () => {
    const out = addon.simulateExpertCache(synthetic(2000, 5, 0, 0), [{ policy: "lru", capacity: 64, warmup: 100 }]);
    expect(hitRate(out.runs[0]!)).toBeCloseTo(0.5, 1);
  });

  it("the default warm-up is a quarter of the trace; a capacity above the expert count is clamped", () => {
    const r = addon.simulateExpertCache(synthetic(200), [{ policy: "mix", capacity: 10_000 }]).runs[0]!;
    expect(r.warmup).toBe(50);
    expect(r.capacity).toBe(N_KEYS);
  });

  it("pinning keeps the most requested experts: a hot expert that lru alone would lose stays", () => {
    // One layer of 8 experts, top-1, 4 slots. Expert 0 comes every 6th token with 5 others in
    // between, so lru always evicts it first; pinned (the most requested) it hits from then on.
    const shape: RouteShape = { nLayers: 2, moeLayers: [1], nExperts: 8, topK: 1 };
    const path = join(dir, "pin.k2routes");
    const records = Array.from({ length: 64 }, (_, t) => [t % 6 === 0 ? 0 : 1 + ((t + Math.floor(t / 6)) % 7)]);
    writeFileSync(path, traceBytes(shape, records));
    const run = (pinFraction: number) =>
      addon.simulateExpertCache({ trace: path }, [{ policy: "lru", capacity: 4, warmup: 8, pinFraction, repinTokens: 8 }]).runs[0]!;
    // Hits on expert 0 after the warm-up (tokens 12, 18, ..., 60).
    const zeroHits = (r: { missesPerToken: Uint32Array }) => Array.from(r.missesPerToken).filter((m, i) => (i + 8) % 6 === 0 && m === 0).length;
    expect(zeroHits(run(0.25))).toBe(9);
    expect(zeroHits(run(0))).toBe(0);
    expect(() => run(1.5)).toThrow(/pin fraction must be 0\.\.1/);
  });

  it("the synthetic generator: same seed same trace; ids distinct per layer", () => {
    const a = join(dir, "a.k2routes"), b = join(dir, "b.k2routes");
    addon.writeRouteTrace(a, synthetic(100, 9));
    addon.writeRouteTrace(b, synthetic(100, 9));
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const t = addon.readRouteTrace(a);
    for (let r = 0; r < t.ids.length; r += 4) expect(new Set(t.ids.subarray(r, r + 4)).size).toBe(4);
  });

  it("reuse 1 repeats the previous token's experts exactly", () => {
    const path = join(dir, "reuse.k2routes");
    addon.writeRouteTrace(path, synthetic(20, 4, 0.9, 1));
    const t = addon.readRouteTrace(path);
    const rec = 16;
    for (let tok = 1; tok < 20; tok++)
      for (let m = 0; m < 4; m++) {
        const prev = new Set(t.ids.subarray((tok - 1) * rec + m * 4, (tok - 1) * rec + m * 4 + 4));
        expect(new Set(t.ids.subarray(tok * rec + m * 4, tok * rec + m * 4 + 4))).toEqual(prev);
      }
  });
});

describe("route trace files", () => {
  it("round trip: a written trace reads back and replays exactly like its source", () => {
    const path = join(dir, "round.k2routes");
    expect(addon.writeRouteTrace(path, synthetic(120))).toBe(120);
    const t = addon.readRouteTrace(path);
    expect(t.shape).toEqual(SHAPE);
    expect(t.tokens).toBe(120);
    expect(readFileSync(path).length).toBe(32 + 4 * 4 + 120 * 16 * 2);
    const runs = POLICY_NAMES.map((policy) => ({ policy, capacity: 48, warmup: 20 }));
    const fromSource = addon.simulateExpertCache(synthetic(120), runs).runs;
    const fromFile = addon.simulateExpertCache({ trace: path }, runs).runs;
    expect(fromFile.map((r) => [r.hits, r.misses, Array.from(r.missesPerToken)])).toEqual(fromSource.map((r) => [r.hits, r.misses, Array.from(r.missesPerToken)]));
  });

  it("bad traces are clear errors naming the file and the fault", () => {
    const write = (name: string, bytes: Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const rec = new Array(16).fill(0).map((_, i) => i % 4);
    const run = (path: string) => () => addon.simulateExpertCache({ trace: path }, [{ policy: "lru", capacity: 8 }]);
    expect(run(join(dir, "missing.k2routes"))).toThrow(/missing\.k2routes: cannot open route trace: No such file/);
    expect(run(write("magic.k2routes", traceBytes(SHAPE, [rec], { magic: "NOTROUTE" })))).toThrow(/not a route trace/);
    expect(run(write("version.k2routes", traceBytes(SHAPE, [rec], { version: 7 })))).toThrow(/route trace version 7/);
    const whole = traceBytes(SHAPE, [rec, rec]);
    expect(run(write("trunc.k2routes", whole.subarray(0, whole.length - 3)))).toThrow(/truncated: 61 bytes of records is not a whole number of 32-byte token records/);
    const bad = [...rec];
    bad[5] = 40;
    expect(run(write("range.k2routes", traceBytes(SHAPE, [rec, bad])))).toThrow(/token 1, layer 2: expert id 40 outside 0\.\.31/);
    const dup = [...rec];
    dup[13] = dup[12]!;
    expect(run(write("dup.k2routes", traceBytes(SHAPE, [dup])))).toThrow(/token 0, layer 4: expert id 0 chosen twice/);
    expect(run(write("layers.k2routes", traceBytes({ ...SHAPE, moeLayers: [1, 9, 3, 4] }, [rec])))).toThrow(/MoE layer 9 outside/);
  });

  it("a capacity below top_k and bad synthetic parameters are clear errors", () => {
    expect(() => addon.simulateExpertCache(synthetic(10), [{ policy: "lru", capacity: 3 }])).toThrow(/capacity 3 is below top_k 4/);
    expect(() => addon.simulateExpertCache(synthetic(10, 1, 0.9, 1.5), [])).toThrow(/reuse must be 0\.\.1/);
    expect(() => addon.simulateExpertCache({ shape: { ...SHAPE, topK: 40 }, synthetic: { tokens: 1, zipf: 1, reuse: 0, seed: 1 } }, [])).toThrow(/top_k must be/);
  });
});

describe("k2 simulate", () => {
  const k2 = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, "simulate", ...args], { encoding: "utf8" });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build:ts\` first`);
  });

  it("prints hit rate and tok/s per machine and policy for K2's shape (JSON)", () => {
    const r = k2(["--tokens", "120", "--profile", "mac64,mac512", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model.route).toMatchObject({ nLayers: 61, nExperts: 384, topK: 8 });
    expect(out.model.route.moeLayers).toHaveLength(60);
    // 3 x (2048 x 7168 / 2 packed bytes + 2048 x 224 BF16 scales + an 8-byte shape tensor).
    expect(out.model.expertBytes).toBe(3 * (2048 * 3584 + 2048 * 224 * 2 + 8));
    expect(out.rows).toHaveLength(2 * 3);
    const [small, big] = [out.rows[0], out.rows[3]];
    expect(big.capacity).toBeGreaterThan(small.capacity);
    // The engine's memory plan sizes the cache: 0.75 x 64 GiB less dense, KV and reserve, in slots.
    expect(small.plan.cachedExperts).toBe(small.capacity);
    expect(small.plan.budgetBytes).toBe(Math.floor(0.75 * 64 * 2 ** 30));
    for (const row of out.rows) {
      expect(row.result.hitRate).toBeGreaterThan(0);
      expect(row.result.hitRate).toBeLessThanOrEqual(1);
      expect(row.result.tokPerSecBound).toBeGreaterThanOrEqual(row.result.tokPerSec);
    }
  });

  it("writes an SVG plot with one line per policy in each panel", () => {
    const svg = join(dir, "plot.svg");
    const r = k2(["--tokens", "60", "--profile", "mac64", "--policy", "lru", "--plot", svg]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const text = readFileSync(svg, "utf8");
    expect(text.startsWith("<svg")).toBe(true);
    expect(text.match(/<polyline /g)).toHaveLength(2);
  });

  it("replays a saved trace with --trace and rejects one of another model's shape", () => {
    const path = join(dir, "k2.k2routes");
    const a = k2(["--tokens", "60", "--profile", "mac128", "--policy", "lru", "--save-trace", path, "--json"]);
    expect(a.code).toBe(0);
    const b = k2(["--trace", path, "--profile", "mac128", "--policy", "lru", "--json"]);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).rows[0].result.hits).toBe(JSON.parse(a.stdout).rows[0].result.hits);
    const small = join(dir, "small.k2routes");
    addon.writeRouteTrace(small, synthetic(10));
    const c = k2(["--trace", small]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/the trace has 4 MoE layers of 5 x 32 experts, top-4 but the model shape \(Kimi K2 Thinking\) has 60 MoE layers of 61 x 384 experts, top-8; pass --model DIR/);
  });

  it.each([
    [["--policy", "fifo"], /--policy: must be one of lru, lfu, mix, all, got "fifo"/],
    [["--profile", "mac32"], /--profile: "mac32" is not one of mac64, mac128, mac192, mac512, all/],
    [["--memory", "64,x"], /--memory: must be memory sizes in GB > 0/],
    [["--reuse", "2"], /--reuse: must be in \[0, 1\]/],
    [["--tokens", "0"], /--tokens: 0 is out of range/],
    [["--budget-fraction", "1.5"], /--budget-fraction: must be in \(0, 1\]/],
    [["--window-share", "2"], /--window-share: must be in \[0, 1\]/],
    [["--memory", "64", "--profile", "mac64"], /--memory and --profile cannot be used together/],
  ])("bad flags %j exit 2 with a message", (args, message) => {
    const r = k2(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("a machine too small for dense weights + KV says it does not fit", () => {
    const r = k2(["--tokens", "40", "--memory", "24", "--policy", "lru"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/24GB .* lru .* 0 +does not fit/);
    expect(r.stdout).toMatch(/24GB: .* is less than the dense weights \(23\.4 GB\) \+ KV cache at 32768 tokens/);
  });

  it("--memory sizes may carry a G / GB unit, like --memory-budget", () => {
    const r = k2(["--tokens", "40", "--memory", "24G,24GB", "--policy", "lru"]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/24GB .* lru .* does not fit/g)).toHaveLength(2);
  });

  it("policy parameters reach the policy: mix with no protected share behaves differently", () => {
    const args = ["--tokens", "200", "--profile", "mac64", "--policy", "mix", "--json"];
    const hits = (extra: string[]) => JSON.parse(k2([...args, ...extra]).stdout).rows[0].result.hits as number;
    expect(hits(["--window-share", "0"])).not.toBe(hits([]));
  });

  it("a warm-up as long as the trace is an error", () => {
    const r = k2(["--tokens", "50", "--warmup", "50", "--profile", "mac64", "--policy", "lru"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the trace has 50 tokens, not more than the 50-token warm-up \(lower --warmup\)/);
  });

  it("a missing trace file is a runtime error (exit 1) naming it", () => {
    const r = k2(["--trace", join(dir, "nope.k2routes")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.k2routes: cannot open route trace/);
  });
});
