// /init: the agent receives the full instructions; the transcript and the input history show the
// command, not the long prompt.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render } from "ink-testing-library";
import { ChatApp } from "../../src/ui/App.js";
import { ansiStyle, stripAnsi } from "../../src/ui/ansi_style.js";
import { InputHistory } from "../../src/ui/input_history.js";
import { FakeDriver, fakeServices, until } from "./fake_driver.js";

afterEach(() => cleanup());

describe("/init", () => {
  it("sends the init prompt as a turn, shown as the command", async () => {
    const driver = new FakeDriver([[{ type: "turn_start", turn: 1 }, { type: "turn_end", reason: "done" }]]);
    const history = new InputHistory(null);
    const prompt = "Please analyze this repository and write an AGENTS.md file. Explore first.";
    const app = render(<ChatApp driver={driver} services={fakeServices({ initPrompt: prompt })} history={history} style={ansiStyle(false)} cwd="/w" branch={null} showThinking={false} />);
    const frame = () => stripAnsi(app.lastFrame() ?? "");
    for (const ch of "/init") {
      app.stdin.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    app.stdin.write("\r");
    await until(() => driver.prompts.length === 1, frame);
    expect(driver.prompts).toEqual([prompt]);
    await until(() => frame().includes("/init · analyze this repository and write AGENTS.md"), frame);
    expect(frame()).not.toContain("Explore first");
    expect(history.all).toEqual(["/init"]);
  });
});
