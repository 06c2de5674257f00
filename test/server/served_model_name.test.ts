// The model id `k2 serve` announces for a checkpoint folder.
import { describe, expect, it } from "vitest";
import { servedModelName } from "../../src/server/local_model.js";

describe("servedModelName", () => {
  it("names a Hugging Face snapshot by its repo, anything else by its folder", () => {
    expect(servedModelName("/home/u/.cache/huggingface/hub/models--moonshotai--Kimi-K2-Thinking/snapshots/0123abcd")).toBe("moonshotai/Kimi-K2-Thinking");
    expect(servedModelName("/models/kimi-k2-tiny/")).toBe("kimi-k2-tiny");
    expect(servedModelName("/x/snapshots/abc")).toBe("abc");
  });
});
