// The addon's own checks on the load plan and on its inputs: the TypeScript loader validates
// first, but native code must still refuse a bad plan with a message naming what is wrong,
// never crash or read past a mapping.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadCheckpointPlan } from "../../src/engine/checkpoint/load_checkpoint_plan.js";
import { loadAddon } from "../../src/engine/native_addon.js";
import type { NativeLoadPlan } from "../../src/engine/native_api.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/kimi-k2-tiny", import.meta.url));
const addon = loadAddon();

async function plan(): Promise<NativeLoadPlan> {
  return structuredClone((await loadCheckpointPlan(DIR, { threads: 1 })).plan);
}

describe("native load plan checks", () => {
  it("rejects a tensor that extends past the end of its shard", async () => {
    const p = await plan();
    p.tensors["model.norm.weight"]!.offset = 1e9;
    expect(() => new addon.NativeEngine(p)).toThrow(/model\.norm\.weight .* extends past the end of the file/);
  });

  it("names a missing tensor, a wrong dtype and a wrong shape", async () => {
    const missing = await plan();
    delete missing.tensors["model.layers.1.mlp.experts.3.up_proj.weight_scale"];
    expect(() => new addon.NativeEngine(missing)).toThrow(/model\.layers\.1\.mlp\.experts\.3\.up_proj\.weight_scale is missing/);
    const dtype = await plan();
    dtype.tensors["lm_head.weight"]!.dtype = "F32";
    expect(() => new addon.NativeEngine(dtype)).toThrow(/lm_head\.weight: dtype F32, expected BF16/);
    const shape = await plan();
    shape.tensors["model.layers.0.self_attn.o_proj.weight"]!.shape = [128, 256];
    expect(() => new addon.NativeEngine(shape)).toThrow(/o_proj\.weight: shape \[128, 256\], expected \[256, 128\]/);
  });

  it("refuses unknown backends, CPU modes and malformed fields", async () => {
    const p = await plan();
    expect(() => new addon.NativeEngine({ ...p, backend: "tpu" as never })).toThrow(/unknown backend "tpu"/);
    expect(() => new addon.NativeEngine({ ...p, cpuMode: "turbo" as never })).toThrow(/cpuMode "turbo"/);
    expect(() => new addon.NativeEngine({ ...p, config: { ...p.config, hidden_size: "256" as never } })).toThrow(/config\.hidden_size must be a number/);
    expect(() => new addon.NativeEngine({ ...p, config: { ...p.config, n_group: 3 } })).toThrow(/config\.n_group: must divide n_routed_experts/);
    expect(() => new addon.NativeEngine({ ...p, files: ["/nonexistent/shard.safetensors", ...p.files.slice(1)] })).toThrow(
      /\/nonexistent\/shard\.safetensors: cannot open/,
    );
  });

  it("rejects token ids outside the vocabulary without touching the cache", async () => {
    const engine = new addon.NativeEngine(await plan());
    const s = engine.createSession(64);
    await expect(s.prefill(Int32Array.of(5, 4000), "last")).rejects.toThrow(/token id 4000 at index 1 outside vocabulary/);
    expect(s.tokens().length).toBe(0);
    await s.prefill(Int32Array.of(5, 6), "none");
    expect(Array.from(s.tokens())).toEqual([5, 6]);
    expect(() => s.generate(new Int32Array(0), {}, () => {})).toThrow(/at least one new prompt token/);
    s.dispose();
    expect(() => s.tokens()).toThrow(/session disposed/);
    engine.dispose();
  });

  it("a GPU backend waits once per MoE layer plus once for the logits per decoded token (metal-emu)", async () => {
    // The KV append runs on the device and experts are released after the next router's sync, so
    // decode pays one command-buffer round trip per MoE layer (the host needs the routed ids to
    // fetch experts) and one for the logits. Before, attention and the experts waited too: 3 per layer.
    const p = { ...(await plan()), backend: "metal-emu" as const };
    const moeLayers = p.config.num_hidden_layers - p.config.first_k_dense_replace;
    const engine = new addon.NativeEngine(p);
    const s = engine.createSession(64);
    await s.prefill(Int32Array.of(5, 6, 7), "last");
    const before = engine.info().deviceWaits;
    const steps = 6;
    for (let i = 0; i < steps; i++) await s.prefill(Int32Array.of(10 + i), "last");
    const perToken = (engine.info().deviceWaits - before) / steps;
    expect(perToken).toBe(moeLayers + 1);
    // The CPU backend's ops run to completion: it never waits.
    const cpu = new addon.NativeEngine(await plan());
    const c = cpu.createSession(64);
    await c.prefill(Int32Array.of(5, 6, 7), "last");
    expect(cpu.info().deviceWaits).toBe(0);
    c.dispose();
    cpu.dispose();
    s.dispose();
    engine.dispose();
  });

  it("reports a generation error as an event naming what failed", async () => {
    const engine = new addon.NativeEngine(await plan());
    const s = engine.createSession(64);
    const ev = await new Promise<{ type: string; message?: string }>((resolve) => {
      s.generate(Int32Array.of(1, 99999), { maxTokens: 2 }, (e) => {
        if (e.type !== "token") resolve(e);
      });
    });
    expect(ev.type).toBe("error");
    expect(ev.message).toMatch(/generation failed: token id 99999/);
    s.dispose();
    engine.dispose();
  });
});
