import { describe, expect, it } from "vitest";
import { parseAppFlags } from "../../src/cli/app/app_flags.js";
import { UsageError } from "../../src/errors.js";

describe("parseAppFlags", () => {
  it("turns sampling flags into typed settings", () => {
    const f = parseAppFlags({ temperature: "0.6", topP: "0.95", topK: "40", minP: "0.05", seed: "7", maxTokens: "256", context: "8192", prompt: "hi" });
    expect(f.settings).toEqual({ temperature: 0.6, topP: 0.95, topK: 40, minP: 0.05, seed: 7, maxTokens: 256, contextSize: 8192 });
    expect(f.prompt).toBe("hi");
    expect(f.outputFormat).toBe("text");
  });

  it("rejects bad values with a usage error naming the flag", () => {
    expect(() => parseAppFlags({ temperature: "warm" })).toThrow(UsageError);
    expect(() => parseAppFlags({ temperature: "warm" })).toThrow(/--temperature/);
    expect(() => parseAppFlags({ maxTokens: "0" })).toThrow(/--max-tokens/);
    expect(() => parseAppFlags({ outputFormat: "xml" })).toThrow(/--output-format/);
    expect(() => parseAppFlags({ continue: true, resume: "abc" })).toThrow(/cannot be used together/);
    expect(() => parseAppFlags({ endpoint: "ftp://x" })).toThrow(/--endpoint/);
    expect(() => parseAppFlags({ apiKey: "k" })).toThrow(/--api-key needs --endpoint/);
  });

  it("maps --yolo, --show-thinking, --allow-tools and -p without text", () => {
    const f = parseAppFlags({ yolo: true, showThinking: true, allowTools: "run_shell(npm test),edit_file", prompt: true, resume: true });
    expect(f.settings.permissionMode).toBe("yolo");
    expect(f.settings.showThinking).toBe(true);
    expect(f.allowTools).toEqual(["run_shell(npm test)", "edit_file"]);
    expect(f.prompt).toBe("");
    expect(f.resume).toBe(true);
    expect(parseAppFlags({ allowTools: true }).allowTools).toBe(true);
  });
});
