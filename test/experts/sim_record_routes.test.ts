// --record-routes: the engine writes every token's routed experts (prefill and decode) to a
// route trace that k2 simulate replays. Checked against the fixture's float64 reference routes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expertSimAddon } from "../../src/cli/experts/sim_addon.js";

const BIN = "dist/src/cli/main.js";
const TINY = "/work/shared/fixtures/kimi-k2-tiny";
const golden = JSON.parse(readFileSync(join(TINY, "golden.json"), "utf8")) as { prompt_ids: number[]; prompt_routes: Record<string, number[][]> };
const addon = expertSimAddon();

function k2(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = "";
beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build:ts\` first`);
  dir = mkdtempSync(join(tmpdir(), "k2-routes-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Token t's experts at MoE layer index m, sorted. */
function tokenRoutes(t: { shape: { moeLayers: number[]; topK: number }; ids: Uint16Array }, tok: number, m: number): number[] {
  const rec = t.shape.moeLayers.length * t.shape.topK;
  return Array.from(t.ids.subarray(tok * rec + m * t.shape.topK, tok * rec + (m + 1) * t.shape.topK)).sort((a, b) => a - b);
}

describe("--record-routes", () => {
  it("k2 logits records one record per prompt token with the reference routes", () => {
    const path = join(dir, "prompt.k2routes");
    const r = k2(["logits", "--model", TINY, "--ids", golden.prompt_ids.join(","), "--record-routes", path]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const t = addon.readRouteTrace(path);
    expect(t.shape).toEqual({ nLayers: 3, moeLayers: [1, 2], nExperts: 16, topK: 4 });
    expect(t.tokens).toBe(golden.prompt_ids.length);
    let same = 0, total = 0;
    t.shape.moeLayers.forEach((layer, m) => {
      golden.prompt_routes[String(layer)]!.forEach((want, tok) => {
        total++;
        if (tokenRoutes(t, tok, m).join() === [...want].sort((a, b) => a - b).join()) same++;
      });
    });
    expect(same).toBe(total);
  });

  it("k2 generate records the prefill then one record per decoded token, and k2 simulate replays it", () => {
    const prompt = golden.prompt_ids.slice(0, 8);
    const gen = join(dir, "gen.k2routes");
    const r = k2(["generate", "--model", TINY, "--ids", prompt.join(","), "-n", "6", "--temperature", "0", "--ignore-eos", "--json", "--record-routes", gen]);
    expect(r.code).toBe(0);
    const ids = JSON.parse(r.stdout).ids as number[];
    expect(ids).toHaveLength(6);
    const t = addon.readRouteTrace(gen);
    // The last sampled token is never run through the model.
    expect(t.tokens).toBe(prompt.length + ids.length - 1);
    const pre = join(dir, "pre.k2routes");
    expect(k2(["logits", "--model", TINY, "--ids", prompt.join(","), "--record-routes", pre]).code).toBe(0);
    const p = addon.readRouteTrace(pre);
    expect(Array.from(t.ids.subarray(0, p.ids.length))).toEqual(Array.from(p.ids));
    const sim = k2(["simulate", "--trace", gen, "--model", TINY, "--memory", "1", "--policy", "lru", "--warmup", "0", "--json"]);
    expect(sim.stderr).toBe("");
    expect(sim.code).toBe(0);
    const row = JSON.parse(sim.stdout).rows[0];
    expect(row.result.hits + row.result.misses).toBe(t.tokens * 2 * 4);
  });

  it("the app (one-shot) records every token it runs through the model", () => {
    const path = join(dir, "app.k2routes");
    const r = k2(["--model", TINY, "-p", "hi", "--max-tokens", "3", "--temperature", "0", "--record-routes", path]);
    expect(r.code).toBe(0);
    const t = addon.readRouteTrace(path);
    expect(t.shape.moeLayers).toEqual([1, 2]);
    // The rendered prompt (system, user turn, assistant header) plus the decoded tokens but the last.
    expect(t.tokens).toBeGreaterThan(3);
  });

  it("an unwritable trace path is a clear error before anything runs", () => {
    const r = k2(["generate", "--model", TINY, "--ids", "1", "-n", "1", "--record-routes", join(dir, "no-such-dir", "x.k2routes")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-such-dir\/x\.k2routes: cannot create route trace: No such file or directory/);
    expect(k2(["generate", "--model", TINY, "--ids", "1", "--record-routes", ""]).stderr).toMatch(/--record-routes: expected a file path/);
  });
});
