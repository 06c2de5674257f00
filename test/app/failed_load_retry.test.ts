// /model keeps the current engine when another checkpoint fails to load, so a failed load must
// leave nothing behind: an engine whose native construction throws is torn down at once, and its
// worker threads (which may not have started yet) must still shut down. That once hung the app;
// the loop runs in a child process so a regression fails here instead of hanging the test run.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeSyntheticCheckpoint } from "../../src/engine/checkpoint/synthetic_checkpoint.js";
import { transpileForChild } from "../agent/transpile_for_child.js";

const root = mkdtempSync(path.join(os.tmpdir(), "k2-failed-load-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a checkpoint that fails to load in native code", () => {
  it("fails with a clear error 20 times next to a working engine, which still generates; nothing hangs", async () => {
    // Sparse shards: the headers are valid (the TypeScript loader accepts them) but every tensor
    // reads as zeros, so the engine rejects the INT4 weight shapes while building the model.
    const bad = await writeSyntheticCheckpoint(path.join(root, "zeros"), { shards: 1, sparse: true });
    const child = transpileForChild("test/app/failed_load_child.ts");
    try {
      const env = { ...process.env, K2_ENGINE_ADDON: process.env.K2_ENGINE_ADDON ?? path.resolve("build/Release/k2_engine.node") };
      const proc = spawn(process.execPath, [child.entry, bad, path.resolve("../shared/fixtures/kimi-k2-tiny"), "20"], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
      proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const result = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => {
          proc.kill("SIGKILL");
          resolve("hung");
        }, 60_000);
        proc.on("exit", (code) => {
          clearTimeout(timer);
          resolve(`exit ${code}`);
        });
      });
      expect(result, out).toBe("exit 0");
      expect(out).toMatch(/^ERROR EngineError: .*weight_shape/m);
      expect(out).toContain("OK 2");
    } finally {
      child.cleanup();
    }
  }, 90_000);
});
