import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { VERSION } from "../../src/cli/version.js";

describe("version", () => {
  it("matches package.json so --version needs no file read", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(VERSION).toBe(pkg.version);
  });
});
