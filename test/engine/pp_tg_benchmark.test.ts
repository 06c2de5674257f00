// runPpTg, the engine side of `k2 bench` and the engine benchmark, on the tiny checkpoint: the
// probe it takes around each decode run (the benchmark's memory-bandwidth measurement) is taken
// exactly once before every measured run and once after the last, never during one.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEngine, type NativeEngine } from "../../src/engine/open_engine.js";
import { runPpTg } from "../../src/cli/engine/pp_tg_benchmark.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));

describe("runPpTg", () => {
  let engine: NativeEngine;
  beforeAll(async () => {
    engine = await openEngine(DIR, { threads: 2, contextSize: 64 });
  });
  afterAll(() => engine?.dispose());

  it("takes the probe before each measured decode run and after the last, and returns what it measured", async () => {
    const events: string[] = [];
    // Wrap session creation to see where the probes fall between the runs.
    const create = engine.createSession.bind(engine);
    const spy = Object.assign(Object.create(Object.getPrototypeOf(engine)), engine, {
      createSession: () => {
        events.push("run");
        return create();
      },
    });
    let k = 0;
    const r = await runPpTg(spy, {
      promptTokens: 0,
      genTokens: 3,
      reps: 3,
      probe: () => {
        events.push("probe");
        return 10 + k++;
      },
    });
    // One warm-up run (no probe), then probe, run, probe, run, probe, run, probe.
    expect(events).toEqual(["run", "probe", "run", "probe", "run", "probe", "run", "probe"]);
    expect(r.tg?.probes).toEqual([10, 11, 12, 13]);
    expect(r.tg?.runs).toHaveLength(3);
    expect(r.tg!.runs.every((x) => x > 0)).toBe(true);
    expect(r.pp).toBeNull();
  });

  it("without a probe the result carries no probes", async () => {
    const r = await runPpTg(engine, { promptTokens: 4, genTokens: 2, reps: 1 });
    expect(r.tg?.probes).toBeUndefined();
    expect(r.pp?.tokens).toBe(4);
    expect(r.tg?.runs).toHaveLength(1);
  });
});
