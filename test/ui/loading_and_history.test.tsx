import { mkdtempSync, readFileSync, appendFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "ink-testing-library";
import { LoadingScreen } from "../../src/ui/LoadingScreen.js";
import { memoryLine } from "../../src/ui/components/LoadProgress.js";
import { InputHistory } from "../../src/ui/input_history.js";
import type { LoadProgress } from "../../src/engine/types.js";
import { until } from "./fake_driver.js";

afterEach(() => cleanup());

describe("LoadingScreen", () => {
  it("shows the model, the memory estimate and a bar that moves through the loader's phases", async () => {
    let push: ((p: LoadProgress) => void) | undefined;
    const memory = { weightsBytes: 594e9, kvBytes: 4e9, contextTokens: 32768, budgetBytes: 96e9, budgetSource: "default budget, 75% of RAM" };
    const app = render(<LoadingScreen modelName="Kimi-K2-Thinking" subscribe={(cb) => (push = cb)} memory={memory} />);
    const frame = () => app.lastFrame() ?? "";
    expect(frame()).toContain("Loading Kimi-K2-Thinking");
    expect(frame().replace(/\s+/g, " ")).toContain(
      "memory: at most 96.0 GB (default budget, 75% of RAM): dense weights + KV cache up to 4.0 GB (33k tokens) + an expert cache; the other experts of the 594.0 GB of weights are read from disk when needed",
    );
    expect(frame()).toContain("0% starting");
    push!({ phase: "headers", done: 0, total: 1 });
    await until(() => frame().includes("0% reading config and shard index"), frame);
    push!({ phase: "headers", done: 31, total: 62, bytesDone: 297e9 });
    await until(() => frame().includes("23% reading shard headers 31 / 62 · 297.0 GB of weights"), frame);
    push!({ phase: "experts", done: 11_520, total: 23_040, bytesDone: 594e9, bytesTotal: 594e9 });
    await until(() => frame().includes("65% indexing experts 12k / 23k"), frame);
    push!({ phase: "mapping", done: 0, total: 62, bytesDone: 0, bytesTotal: 594e9 });
    await until(() => frame().includes("85% mapping 62 shards · 594.0 GB"), frame);
    expect(frame()).toMatch(/█+░+ 85%/);
  });

  it("a checkpoint that fits its budget is memory-mapped whole", () => {
    expect(memoryLine({ weightsBytes: 5e6, kvBytes: 30e6, contextTokens: 32768, budgetBytes: 18e9, budgetSource: "default budget, 75% of RAM" })).toBe(
      "memory: weights 5.0 MB memory-mapped + KV cache up to 30.0 MB (33k tokens), within 18.0 GB (default budget, 75% of RAM)",
    );
  });

  it("repaints a burst of updates within a phase at most every 100 ms, showing the latest", async () => {
    let push: ((p: LoadProgress) => void) | undefined;
    const app = render(<LoadingScreen modelName="m" subscribe={(cb) => (push = cb)} />);
    const frame = () => app.lastFrame() ?? "";
    push!({ phase: "experts", done: 1, total: 100 });
    for (let i = 2; i <= 100; i++) push!({ phase: "experts", done: i, total: 100 });
    await until(() => frame().includes("indexing experts 100 / 100"), frame);
    // The elapsed time ticks while the loader is busy.
    await until(() => /Loading m · [1-9]\.\d s|Loading m · 0\.[1-9] s/.test(frame()), frame);
  });
});

describe("InputHistory", () => {
  it("persists entries across sessions and skips a torn last line", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "k2-history-")), "sub", "history.jsonl");
    const a = new InputHistory(file);
    a.add("first");
    a.add("second\nwith two lines");
    a.add("second\nwith two lines"); // consecutive duplicate dropped
    a.add("   ");
    appendFileSync(file, '"torn');
    const b = new InputHistory(file);
    expect(b.all).toEqual(["first", "second\nwith two lines"]);
    expect(readFileSync(file, "utf8").split("\n")[0]).toBe('"first"');
  });
});
