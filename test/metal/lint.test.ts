// shaders/emu/lint_msl.mjs: the real shaders pass; each rule rejects a file that breaks it.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const LINT = fileURLToPath(new URL("../../shaders/emu/lint_msl.mjs", import.meta.url));

function lint(dir?: string): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, dir ? [LINT, dir] : [LINT], { encoding: "utf8" }) };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, out: err.stdout };
  }
}

const TAIL = `uint3 tgpig [[threadgroup_position_in_grid]],
    ushort tiitg [[thread_index_in_threadgroup]],
    ushort3 ntg [[threads_per_threadgroup]],
    ushort sgitg [[simdgroup_index_in_threadgroup]],
    ushort tiisg [[thread_index_in_simdgroup]]`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// A shader dir with one file `bad.metal` holding `body` at program scope, and its registration.
function shaderDir(body: string, kernels: string[] = []): string {
  const d = mkdtempSync(join(tmpdir(), "k2-lint-"));
  dirs.push(d);
  mkdirSync(join(d, "emu"));
  writeFileSync(join(d, "bad.metal"), `#include <metal_stdlib>\nusing namespace metal;\n${body}\n`);
  writeFileSync(join(d, "emu", "kernels_bad.cpp"), kernels.map((k) => `K2_EMU_KERNEL(${k})`).join("\n"));
  return d;
}

const kernel = (name: string, inner: string, params = "device float* y [[buffer(0)]]") =>
  `kernel void ${name}(${params},\n    ${TAIL}) {\n${inner}\n}`;

describe("lint_msl", () => {
  it("passes the project's shaders", () => {
    const r = lint();
    expect(r.out).toMatch(/files OK/);
    expect(r.code).toBe(0);
  });

  it("accepts a well-formed kernel", () => {
    const r = lint(shaderDir(kernel("good", "  y[tiitg] = 1.0f;"), ["good"]));
    expect(r.out).toMatch(/files OK/);
  });

  it.each([
    ["std::", kernel("k", "  y[0] = std::max(1.0f, 2.0f);"), /std:: is not available/],
    ["double", kernel("k", "  double d = 1.0; y[0] = float(d);"), /double is not supported/],
    ["new", kernel("k", "  float* p = new float[4]; y[0] = p[0];"), /dynamic allocation/],
    ["exceptions", kernel("k", "  if (tiitg > 9) throw 1;"), /exceptions are not supported/],
    ["function pointers", `inline float twice(float v) { return 2.0f * v; }\n${kernel("k", "  float (*f)(float) = twice; y[0] = f(1.0f);")}`, /function pointers/],
    ["host includes", `#include <stdio.h>\n${kernel("k", "  y[0] = 0.0f;")}`, /host include <stdio.h>/],
    ["recursion", `inline int fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }\n${kernel("k", "  y[0] = float(fact(4));")}`, /recursion is not supported in MSL: fact -> fact/],
    ["mutual recursion", `inline int odd(int n);\ninline int even(int n) { return n == 0 ? 1 : odd(n - 1); }\ninline int odd(int n) { return n == 0 ? 0 : even(n - 1); }\n${kernel("k", "  y[0] = float(even(4));")}`, /recursion .*even -> odd -> even|recursion .*odd -> even -> odd/],
    ["static storage", kernel("k", "  static float s = 0.0f; y[0] = s;"), /static\/thread_local storage/],
    ["threadgroup pointers", `inline void f(threadgroup float* p) { p[0] = 0.0f; }\n${kernel("k", "  y[0] = 0.0f;")}`, /threadgroup may only declare an array/],
    ["non-inline helpers", `float helper(float v) { return v; }\n${kernel("k", "  y[0] = helper(1.0f);")}`, /helper helper\(\) must be inline/],
    ["the position tail", "kernel void k(device float* y [[buffer(0)]], uint tid [[thread_position_in_grid]]) { y[tid] = 0.0f; }", /must end with the position parameters/],
    ["buffer indices", kernel("k", "  y[0] = x[0];", "device float* y [[buffer(0)]],\n    device const float* x [[buffer(2)]]"), /parameter 1 .* must be bound at \[\[buffer\(1\)\]\]/],
  ])("rejects %s", (_what, body, message) => {
    const r = lint(shaderDir(body, ["k"]));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(message);
  });

  it("rejects a kernel the harness does not register", () => {
    const r = lint(shaderDir(kernel("lonely", "  y[0] = 0.0f;"), []));
    expect(r.out).toMatch(/kernel lonely is not registered in .*kernels_bad\.cpp/);
  });

  it("rejects source that does not compile against the harness's metal_stdlib", () => {
    const r = lint(shaderDir(kernel("k", "  y[0] = undefined_builtin(1.0f);"), ["k"]));
    expect(r.out).toMatch(/does not compile as C\+\+14/);
  });
});
