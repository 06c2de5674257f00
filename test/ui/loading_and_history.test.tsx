import { mkdtempSync, readFileSync, appendFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "ink-testing-library";
import { LoadingScreen } from "../../src/ui/LoadingScreen.js";
import { InputHistory } from "../../src/ui/input_history.js";
import type { LoadProgress } from "../../src/engine/types.js";
import { until } from "./fake_driver.js";

afterEach(() => cleanup());

describe("LoadingScreen", () => {
  it("shows the model, the weights estimate and a progress bar that follows the loader", async () => {
    let push: ((p: LoadProgress) => void) | undefined;
    const app = render(<LoadingScreen modelName="Kimi-K2-Thinking" subscribe={(cb) => (push = cb)} memoryEstimateBytes={594 * 1024 ** 3} />);
    const frame = () => app.lastFrame() ?? "";
    expect(frame()).toContain("Loading Kimi-K2-Thinking · weights 594.0 GB (memory-mapped)");
    expect(frame()).toContain("0% starting");
    push!({ phase: "mapping", done: 31, total: 62 });
    await until(() => frame().includes("50% mapping weights 31 / 62 shards"), frame);
    expect(frame()).toMatch(/█+░+ 50%/);
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
