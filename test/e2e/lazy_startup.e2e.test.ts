// `k2 --version` and `k2 --help` must not load React/Ink or the native addon (startup time).
// NODE_DEBUG=module logs every CommonJS load; React and the .node addon both load that way.
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { K2_MAIN, REPO, requireBuiltK2 } from "./k2_binary.js";

beforeAll(() => requireBuiltK2());

function moduleLog(args: string[]): { stdout: string; log: string; code: number | null } {
  const r = spawnSync(process.execPath, args, { cwd: REPO, encoding: "utf8", env: { ...process.env, NODE_DEBUG: "module" } });
  return { stdout: r.stdout, log: r.stderr, code: r.status };
}

describe("lazy startup", () => {
  it("the probe sees React when Ink is imported (positive control)", () => {
    const r = moduleLog(["--input-type=module", "-e", 'await import("ink")']);
    expect(r.log).toMatch(/node_modules\/react\b/);
  });

  for (const flag of ["--version", "--help"]) {
    it(`k2 ${flag} loads neither React/Ink nor the addon`, () => {
      const r = moduleLog([K2_MAIN, flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.log).not.toMatch(/node_modules\/react\b/);
      expect(r.log).not.toMatch(/k2_engine\.node/);
      expect(r.log).not.toMatch(/node_modules\/(ink|conf|marked|cli-highlight)\b/);
    });
  }
});
