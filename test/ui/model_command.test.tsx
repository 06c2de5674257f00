// /model: shows the model without an argument; with one, loads the named checkpoint through the
// app services with a live progress line, then continues in a new conversation on it.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "ink-testing-library";
import type { LoadProgress } from "../../src/engine/types.js";
import { ChatApp } from "../../src/ui/App.js";
import { ansiStyle, stripAnsi } from "../../src/ui/ansi_style.js";
import { InputHistory } from "../../src/ui/input_history.js";
import type { AppServices } from "../../src/ui/session_driver.js";
import { FakeDriver, fakeServices, until } from "./fake_driver.js";

afterEach(() => cleanup());

const ENTER = "\r";

function mount(services: AppServices, driver = new FakeDriver([])) {
  const app = render(<ChatApp driver={driver} services={services} history={new InputHistory(null)} style={ansiStyle(false)} cwd="/w" branch={null} showThinking={false} />);
  const frame = () => stripAnsi(app.lastFrame() ?? "");
  return { app, frame, driver };
}

async function send(app: ReturnType<typeof render>, text: string) {
  for (const ch of text) {
    app.stdin.write(ch);
    await new Promise((r) => setTimeout(r, 2));
  }
  app.stdin.write(ENTER);
}

class OtherModelDriver extends FakeDriver {
  override readonly model = { name: "Kimi-K2-Other", contextWindow: 8192 };
}

describe("/model", () => {
  it("without an argument describes the loaded model", async () => {
    const { app, frame } = mount(fakeServices({ describeModel: () => ["model: fake-k2 (/models/fake)", "switch with /model DIR"] }));
    await send(app, "/model");
    await until(() => frame().includes("model: fake-k2 (/models/fake)"), frame);
  });

  it("switches: shows load progress, blocks prompts meanwhile, then the status line and new turns use the new model", async () => {
    let finish: (() => void) | undefined;
    let report: ((p: LoadProgress) => void) | undefined;
    const next = new OtherModelDriver([[{ type: "turn_start", turn: 1 }, { type: "turn_end", reason: "done" }]]);
    const targets: string[] = [];
    const services = fakeServices({
      switchModel: (target, onProgress) => {
        targets.push(target);
        report = onProgress;
        return new Promise((resolve) => (finish = () => resolve(next)));
      },
    });
    const { app, frame, driver } = mount(services);
    await send(app, "/model ~/models/other");
    await until(() => frame().includes("loading ~/models/other… 0% starting"), frame);
    report!({ phase: "experts", done: 50, total: 100 });
    await until(() => frame().includes("loading ~/models/other… 65% indexing experts 50 / 100"), frame);
    await send(app, "too early");
    await until(() => frame().includes("wait until the model has loaded"), frame);
    await send(app, "/model elsewhere");
    await until(() => frame().includes("busy (a turn is running or a model is loading)"), frame);
    expect(targets).toEqual(["~/models/other"]);
    finish!();
    await until(() => frame().includes("switched to Kimi-K2-Other · context 8192 tokens · new conversation"), frame);
    expect(frame()).toContain("/resume fake-session continues it on this model");
    expect(frame()).toContain("Kimi-K2-Other │ ctx 0/8.2k");
    await send(app, "hello");
    await until(() => next.prompts.length === 1, frame);
    expect(driver.prompts).toEqual([]);
  });

  it("a failed switch is one error line and the current model stays", async () => {
    const services = fakeServices({ switchModel: () => Promise.reject(new Error("/x: not a K2 checkpoint: no config.json")) });
    const { app, frame, driver } = mount(services, new FakeDriver([[{ type: "turn_start", turn: 1 }, { type: "turn_end", reason: "done" }]]));
    await send(app, "/model /x");
    await until(() => frame().includes("error: loading /x: /x: not a K2 checkpoint: no config.json"), frame);
    expect(frame()).toContain("fake-k2 │");
    await send(app, "still here");
    await until(() => driver.prompts.length === 1, frame);
  });

  it("says clearly when the app cannot switch (endpoint sessions)", async () => {
    const { app, frame } = mount(fakeServices());
    await send(app, "/model /x");
    await until(() => frame().includes("cannot switch models: start k2 again with --model DIR"), frame);
  });
});
