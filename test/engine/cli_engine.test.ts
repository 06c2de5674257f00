// End to end through the built CLI (dist/, from `npm run build:ts`) and the native engine
// (build/Release/k2_engine.node): k2 logits / generate / bench / info, their argument errors, every
// corrupted checkpoint, and a second synthetic model of other dimensions whose full-prefill logits
// must agree with token-by-token decode through the KV cache.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeSyntheticCheckpoint } from "../../src/engine/checkpoint/synthetic_checkpoint.js";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { loadAddon } from "../../src/engine/native_addon.js";
import { CORRUPTIONS, TINY, copyCheckpoint, makeBaseCheckpoint } from "./checkpoint_corruptions.js";
import { nodeCommand } from "../helpers/node_command.js";

const BIN = "dist/src/cli/main.js";
const golden = JSON.parse(readFileSync(join(TINY, "golden.json"), "utf8")) as { prompt_ids: number[]; prompt_logits: number[][]; greedy_ids: number[] };

function k2(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(...nodeCommand(BIN, args), { maxBuffer: 1 << 28, env: { ...process.env, ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let root = "";
let base = "";
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build:ts\` first`);
  ({ root, base } = await makeBaseCheckpoint());
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("k2 logits / generate on the tiny fixture", () => {
  it("prints one row per position matching the float64 golden, numbers that round-trip float32 exactly", () => {
    const r = k2(["logits", "--model", TINY, "--ids", golden.prompt_ids.join(",")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout).logits as number[][];
    expect(rows).toHaveLength(golden.prompt_ids.length);
    let maxDiff = 0;
    for (let t = 0; t < rows.length; t++) {
      expect(rows[t]).toHaveLength(1536);
      for (let v = 0; v < rows[t]!.length; v++) {
        const x = rows[t]![v]!;
        expect(Math.fround(x)).toBe(x);
        maxDiff = Math.max(maxDiff, Math.abs(x - golden.prompt_logits[t]![v]!));
      }
    }
    expect(maxDiff).toBeLessThan(2e-3);
  });

  it("generate --json returns the golden greedy ids and timing stats", () => {
    const r = k2(["generate", "--model", TINY, "--ids", golden.prompt_ids.join(","), "--max-tokens", "24", "--temperature", "0", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ids).toEqual(golden.greedy_ids);
    expect(out.stats).toMatchObject({ promptTokens: golden.prompt_ids.length, generatedTokens: 24, finishReason: "length" });
    for (const k of ["loadMs", "prefillMs", "decodeMs", "prefillTokPerS", "decodeTokPerS"]) expect(out.stats[k]).toBeGreaterThan(0);
  });

  it("generate without --json streams the ids on stdout and the stats on stderr; fast mode gives the same greedy ids", () => {
    const r = k2(["generate", "-m", TINY, "--ids", golden.prompt_ids.join(","), "-n", "5", "--temperature", "0", "--cpu-mode", "fast", "--threads", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(golden.greedy_ids.slice(0, 5).join(" ") + "\n");
    expect(r.stderr).toMatch(/prefill .* decode .* length/);
  });

  it("Ctrl+C stops a generation within a token: exit 130, the ids so far printed", async () => {
    const p = spawn(...nodeCommand(BIN, ["generate", "-m", TINY, "--ids", "1,2,3", "-n", "1000000", "--ignore-eos"]));
    let out = "", err = "";
    p.stdout.on("data", (d: Buffer) => {
      if (out === "") p.kill("SIGINT"); // as soon as the first id arrives
      out += d.toString();
    });
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
    expect(code).toBe(130);
    const ids = out.trim().split(" ");
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.length).toBeLessThan(1000000);
    expect(err).toBe(`k2: interrupted after ${ids.length} tokens\n`);
  });

  it("a reader that closes the pipe early gets one clear error, not a crash", async () => {
    const p = spawn(...nodeCommand(BIN, ["generate", "-m", TINY, "--ids", "1,2,3", "-n", "1000000", "--ignore-eos"]));
    let err = "";
    p.stdout.once("data", () => p.stdout.destroy());
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => p.on("exit", (c) => r(c)));
    expect(code).toBe(1);
    expect(err).toBe("k2: stdout closed before the output was complete (EPIPE)\n");
  });

  it("sampling with a seed is reproducible", () => {
    const args = ["generate", "-m", TINY, "--ids", "1,2,3", "-n", "12", "--temperature", "1", "--top-p", "0.9", "--top-k", "50", "--seed", "42", "--json", "--ignore-eos"];
    const a = JSON.parse(k2(args).stdout).ids;
    expect(a).toHaveLength(12);
    expect(JSON.parse(k2(args).stdout).ids).toEqual(a);
  });

  it("--stop-ids ends generation right after the first listed id is emitted", () => {
    const greedy = golden.greedy_ids;
    const stop = greedy[3]!;
    const first = greedy.indexOf(stop);
    const r = k2(["generate", "-m", TINY, "--ids", golden.prompt_ids.join(","), "-n", "24", "--temperature", "0", "--stop-ids", `${stop},1535`, "--json"]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out.ids).toEqual(greedy.slice(0, first + 1));
    expect(out.stats.finishReason).toBe("stop");
  });
});

describe("k2 info / bench", () => {
  it("info --json summarises the checkpoint from its headers", () => {
    const r = k2(["info", "--model", TINY, "--json", "--context", "1000"]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ architecture: "DeepseekV3ForCausalLM", layers: 3, denseLayers: 1, routedExperts: 16, shards: 2, kvBytes: 960 * 1000 });
    expect(info.bytes.total).toBe(5305856);
    expect(info.weightBytesPerToken).toBeLessThan(info.bytes.total);
    expect(k2(["info", "-m", TINY]).stdout).toMatch(/16 routed experts .* 4 per token/);
  });

  it("bench --json reports pp and tg throughput over the requested repetitions", () => {
    const r = k2(["bench", "-m", TINY, "-p", "16", "-n", "4", "-r", "2", "-t", "1", "--mode", "fast", "--json"]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ threads: 1, cpuMode: "fast", backend: "cpu", reps: 2 });
    expect(out.pp.tokens).toBe(16);
    expect(out.pp.runs).toHaveLength(2);
    expect(out.pp.tokPerS).toBeGreaterThan(0);
    expect(out.tg.tokens).toBe(4);
    expect(out.tg.tokPerS).toBeGreaterThan(0);
    expect(out.backendDetail).toBe(`cpu (${loadAddon().cpuIsa}, fast, 1 thread)`);
    expect(out.depth).toBe(0);
  });

  it("bench --depth decodes after that many cached tokens (tg at depth)", () => {
    const r = k2(["bench", "-m", TINY, "-p", "0", "-n", "3", "-d", "40", "-r", "1", "-t", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tg3 @ d40 +[\d.]+ tok\/s/m);
    expect(r.stdout).not.toMatch(/^pp/m);
  });

  it("K2_CPU_ISA caps the kernel tier the engine runs, and the result does not change beyond rounding", () => {
    const ids = golden.prompt_ids.join(",");
    const best = JSON.parse(k2(["logits", "-m", TINY, "--ids", ids, "--cpu-mode", "fast"]).stdout).logits as number[][];
    for (const isa of loadAddon().cpuIsas) {
      const b = k2(["bench", "-m", TINY, "-p", "4", "-n", "2", "-r", "1", "-t", "1", "--json"], { K2_CPU_ISA: isa });
      expect(JSON.parse(b.stdout).backendDetail).toBe(`cpu (${isa}, exact, 1 thread)`);
      const r = k2(["logits", "-m", TINY, "--ids", ids, "--cpu-mode", "fast"], { K2_CPU_ISA: isa });
      const rows = JSON.parse(r.stdout).logits as number[][];
      let worst = 0;
      rows.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - best[i]![j]!)))));
      expect(worst, isa).toBeLessThan(1e-3);
    }
  });
});

describe("argument errors exit 2 naming the flag", () => {
  const cases: [string, string[], RegExp][] = [
    ["missing --model", ["logits", "--ids", "1"], /--model/],
    ["non-numeric id", ["logits", "-m", TINY, "--ids", "1,x"], /--ids: "x"/],
    ["id outside the vocabulary", ["logits", "-m", TINY, "--ids", "1,1536"], /--ids: id 1536 .*vocab_size 1536/],
    ["zero threads", ["logits", "-m", TINY, "--ids", "1", "--threads", "0"], /--threads/],
    ["unknown cpu mode", ["generate", "-m", TINY, "--ids", "1", "--cpu-mode", "turbo"], /--cpu-mode/],
    ["unknown backend", ["generate", "-m", TINY, "--ids", "1", "--backend", "cuda"], /--backend/],
    ["negative temperature", ["generate", "-m", TINY, "--ids", "1", "--temperature", "-1"], /--temperature/],
    ["top-p above 1", ["generate", "-m", TINY, "--ids", "1", "--top-p", "1.5"], /--top-p/],
    ["max tokens not a number", ["generate", "-m", TINY, "--ids", "1", "--max-tokens", "ten"], /--max-tokens/],
    ["stop id outside the vocabulary", ["generate", "-m", TINY, "--ids", "1", "--stop-ids", "2,1536"], /--stop-ids: id 1536/],
    ["stop ids with --ignore-eos", ["generate", "-m", TINY, "--ids", "1", "--stop-ids", "2", "--ignore-eos"], /--stop-ids and --ignore-eos/],
    ["bench reps 0", ["bench", "-m", TINY, "-r", "0"], /--reps/],
    ["bench negative depth", ["bench", "-m", TINY, "-d", "-5"], /--depth/],
    ["bench mode contradicting cpu-mode", ["bench", "-m", TINY, "--mode", "fast", "--cpu-mode", "exact"], /--mode fast contradicts --cpu-mode exact/],
    ["bad K2_CPU_MODE", ["logits", "-m", TINY, "--ids", "1"], /K2_CPU_MODE/],
    ["bad K2_CPU_ISA", ["logits", "-m", TINY, "--ids", "1"], /K2_CPU_ISA="sse9" must be one of: scalar, avx2, avx512, neon/],
  ];
  const envFor: Record<string, Record<string, string>> = { "bad K2_CPU_MODE": { K2_CPU_MODE: "turbo" }, "bad K2_CPU_ISA": { K2_CPU_ISA: "sse9" } };
  it.each(cases)("%s", (name, args, pattern) => {
    const r = k2(args, envFor[name] ?? {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stdout).toBe("");
  });
});

describe("corrupted checkpoints: k2 exits 1 with one message naming the file and tensor/field", () => {
  it.each(CORRUPTIONS.map((c) => [c.name, c] as const))("%s", (name, c) => {
    const dir = copyCheckpoint(base, root, `cli ${name}`);
    c.apply(dir);
    for (const args of [["logits", "--model", dir, "--ids", "1,2"], ["info", "--model", dir]]) {
      const r = k2(args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr.startsWith("k2: ")).toBe(true);
      expect(r.stderr.trim().split("\n")).toHaveLength(1); // one clear message, no stack trace
      for (const p of c.expect) expect(r.stderr).toMatch(typeof p === "string" ? new RegExp(escape(p)) : p);
    }
  });
});

describe("a synthetic model of other dimensions", () => {
  // Other head count, q_lora, expert count, top-k, grouped routing (n_group 4, topk_group 2), no YaRN, 3 shards.
  const spec = {
    hidden_size: 192, num_hidden_layers: 4, first_k_dense_replace: 1, num_attention_heads: 3, q_lora_rank: 96, kv_lora_rank: 48,
    qk_nope_head_dim: 24, qk_rope_head_dim: 8, v_head_dim: 40, intermediate_size: 320, moe_intermediate_size: 96,
    n_routed_experts: 24, num_experts_per_tok: 5, n_shared_experts: 2, n_group: 4, topk_group: 2, routed_scaling_factor: 1.5,
    rope_scaling: null, rope_theta: 10000, vocab_size: 2048, shards: 3, seed: 11,
  };
  let dir = "";
  const prompt = [5, 900, 17, 1300, 42, 7, 2000, 64, 333, 1024, 11, 1500];
  beforeAll(async () => {
    dir = await writeSyntheticCheckpoint(join(root, "other-dims"), { ...spec, tokenizerDir: TINY });
  });

  it("k2 logits rows equal token-by-token decode logits through the KV cache (1e-4)", async () => {
    const r = k2(["logits", "-m", dir, "--ids", prompt.join(",")]);
    expect(r.stderr).toBe("");
    const rows = JSON.parse(r.stdout).logits as number[][];
    expect(rows).toHaveLength(prompt.length);

    const { plan } = await loadCheckpointPlan(dir);
    const engine = new (loadAddon().NativeEngine)(plan);
    const session = engine.createSession(64);
    try {
      let maxDiff = 0, spread = 0;
      for (let t = 0; t < prompt.length; t++) {
        const row = (await session.prefill(Int32Array.of(prompt[t]!), "last"))!;
        expect(row).toHaveLength(2048);
        for (let v = 0; v < row.length; v++) {
          maxDiff = Math.max(maxDiff, Math.abs(row[v]! - rows[t]![v]!));
          spread = Math.max(spread, Math.abs(row[v]!));
        }
      }
      expect(spread).toBeGreaterThan(0.5); // a live model, not all-zero logits
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      session.dispose();
      engine.dispose();
    }
  });

  it("greedy generate picks, at every step, the best token of the prefill logits", () => {
    const gen = k2(["generate", "-m", dir, "--ids", prompt.join(","), "-n", "10", "--temperature", "0", "--json", "--ignore-eos"]);
    expect(gen.stderr).toBe("");
    const ids = JSON.parse(gen.stdout).ids as number[];
    expect(ids).toHaveLength(10);
    const all = [...prompt, ...ids];
    const rows = JSON.parse(k2(["logits", "-m", dir, "--ids", all.slice(0, -1).join(",")]).stdout).logits as number[][];
    for (let k = 0; k < ids.length; k++) {
      const row = rows[prompt.length - 1 + k]!;
      const best = Math.max(...row);
      // Decode and prefill may order a near-tie differently, never a real gap.
      expect(best - row[ids[k]!]!).toBeLessThan(1e-4);
    }
  });
});
