// The macOS build inputs that can be checked on Linux: the amalgamated kernel source that Metal
// compiles at run time (or xcrun turns into k2_kernels.metallib) holds every kernel once and is
// one coherent translation unit; metal-cpp is never fetched off macOS; Metal is the default
// backend only on Apple Silicon.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { defaultBackend } from "../../src/engine/checkpoint/load_options.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "k2-metallib-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("metal kernel library", () => {
  it("amalgamates every kernel of shaders/*.metal into one source that compiles as a single unit", () => {
    execFileSync(process.execPath, [join(ROOT, "native-metal", "build_metal_library.mjs"), "--out", out, "--no-compile"], { encoding: "utf8" });
    const src = readFileSync(join(out, "k2_kernels.metal"), "utf8");
    expect(src).not.toMatch(/#\s*include\s*"/); // no include path at run time: everything inlined
    const kernels = readdirSync(join(ROOT, "shaders"))
      .filter((f) => f.endsWith(".metal"))
      .flatMap((f) => [...readFileSync(join(ROOT, "shaders", f), "utf8").matchAll(/^kernel void (\w+)\(/gm)].map((m) => m[1]));
    expect(kernels.length).toBeGreaterThanOrEqual(14);
    for (const k of kernels) expect(src.match(new RegExp(`^kernel void ${k}\\(`, "gm"))?.length, k).toBe(1);
    expect(src).not.toMatch(/selftest_/); // the harness's broken kernels stay out
    // One translation unit, as Metal compiles it: duplicate helpers or clashing names fail here.
    execFileSync("c++", ["-std=c++14", "-fsyntax-only", "-Wall", "-Wno-unused-parameter", "-x", "c++", "-I", join(ROOT, "shaders", "emu", "include"), join(out, "k2_kernels.metal")]);
  });

  it("does not fetch metal-cpp off macOS", () => {
    if (process.platform === "darwin") return;
    const msg = execFileSync(process.execPath, [join(ROOT, "native-metal", "fetch_metal_cpp.mjs")], { encoding: "utf8" });
    expect(msg).toMatch(/not macOS, metal-cpp is not needed/);
  });

  it("defaults to metal on Apple Silicon only", () => {
    expect(defaultBackend("darwin", "arm64")).toBe("metal");
    expect(defaultBackend("darwin", "x64")).toBe("cpu");
    expect(defaultBackend("linux", "x64")).toBe("cpu");
    expect(defaultBackend("linux", "arm64")).toBe("cpu");
  });
});
