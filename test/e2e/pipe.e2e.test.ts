// One-shots through pipes and the documented failures, with the real built `k2`.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { K2_MAIN, removeSandboxes, requireBuiltK2, sandbox, TINY_MODEL } from "./k2_binary.js";

beforeAll(() => requireBuiltK2());
afterAll(() => removeSandboxes());

function k2(args: string[], opts: { input?: string; home: string; cwd: string; env?: Record<string, string>; stdinFile?: string }) {
  const cmd = opts.stdinFile !== undefined ? ["-c", `exec node "$0" "$@" < "${opts.stdinFile}"`, K2_MAIN, ...args] : [K2_MAIN, ...args];
  const r = spawnSync(opts.stdinFile !== undefined ? "sh" : "node", cmd, {
    cwd: opts.cwd,
    input: opts.input,
    encoding: "utf8",
    env: { ...process.env, K2_HOME: opts.home, FORCE_COLOR: "1", ...opts.env },
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("k2 one-shots through pipes", () => {
  it("stdin as context plus -p: plain text on stdout, no escape codes", () => {
    const box = sandbox();
    const r = k2(["--model", TINY_MODEL, "-p", "review this", "--max-tokens", "24", "--seed", "3"], { ...box, input: "diff --git a/x b/x\n+added line\n" });
    expect(r.stderr.split("\n").filter((l) => l !== "" && !l.includes("cut off"))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
    expect(r.stdout).not.toMatch(/\u001b/);
  });

  it("--output-format json parses and carries answer, stats and the finish reason", () => {
    const box = sandbox();
    const r = k2(["--model", TINY_MODEL, "--output-format", "json", "--max-tokens", "16", "--seed", "5"], { ...box, input: "what is 2+2?" });
    expect(r.code).toBe(0);
    const obj = JSON.parse(r.stdout);
    expect(typeof obj.answer).toBe("string");
    expect(obj.model).toBe("kimi-k2-tiny");
    expect(obj.stats.generatedTokens).toBeGreaterThan(0);
    expect(obj.stats.decodeTokPerS).toBeGreaterThan(0);
    expect(obj.stats.promptTokens).toBeGreaterThan(0);
    expect(["done", "max_steps"]).toContain(obj.finishReason);
  });

  it("--output-format stream-json: every line is a JSON event", () => {
    const box = sandbox();
    const r = k2(["--model", TINY_MODEL, "-p", "hi", "--output-format", "stream-json", "--max-tokens", "8"], { ...box, input: "" });
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(events[0]!.type).toBe("turn_start");
    expect(events[events.length - 1]!.type).toBe("turn_end");
    expect(events.some((e) => e.type === "step_stats")).toBe(true);
  });
});

describe("k2 config", () => {
  it("path, set, get, list and unset round-trip through the file under K2_HOME", () => {
    const box = sandbox();
    expect(k2(["config", "path"], box).stdout.trim()).toBe(path.join(box.home, "config.json"));
    expect(k2(["config", "set", "topK", "40"], box)).toMatchObject({ code: 0, stdout: "topK = 40\n" });
    expect(k2(["config", "get", "topK"], box).stdout).toBe("40\n");
    expect(k2(["config", "get", "topK"], { ...box, env: { K2_TOP_K: "7" } }).stdout).toBe("7\n");
    const list = k2(["config", "list"], box).stdout;
    expect(list).toContain("topK = 40  # file");
    expect(list).toContain("permissionMode = ask  # default");
    expect(k2(["config", "unset", "topK"], box).code).toBe(0);
    expect(k2(["config", "get", "topK"], box)).toMatchObject({ code: 1, stdout: "" });
    const unknown = k2(["config", "get", "nope"], box);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("interrupting a one-shot", () => {
  it("SIGINT mid-answer stops generation and exits 130", async () => {
    const box = sandbox();
    const child = spawn(process.execPath, [K2_MAIN, "--model", TINY_MODEL, "-p", "write a long essay", "--max-tokens", "5000", "--seed", "2"], {
      cwd: box.cwd,
      env: { ...process.env, K2_HOME: box.home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr.trim().split("\n")).toEqual(["k2: interrupted"]);
  });
});

describe("bad input: one clear stderr line and the documented exit code", () => {
  const oneLine = (s: string) => s.trim().split("\n");

  it("unknown flag → 2", () => {
    const r = k2(["--bogus"], sandbox());
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual(["k2: unknown option '--bogus'"]);
  });

  it("bad flag value and bad config value → 2", () => {
    const box = sandbox();
    const flag = k2(["--temperature", "hot", "-p", "x"], box);
    expect(flag.code).toBe(2);
    expect(oneLine(flag.stderr)).toHaveLength(1);
    expect(flag.stderr).toMatch(/--temperature/);
    const set = k2(["config", "set", "temperature", "9"], box);
    expect(set.code).toBe(2);
    expect(oneLine(set.stderr)).toHaveLength(1);
    expect(set.stderr).toMatch(/must be <= 2/);
    writeFileSync(path.join(box.home, "config.json"), JSON.stringify({ topK: "lots" }));
    const file = k2(["-p", "x", "--model", TINY_MODEL], box);
    expect(file.code).toBe(2);
    expect(oneLine(file.stderr)).toHaveLength(1);
    expect(file.stderr).toContain("config.json");
    const env = k2(["-p", "x", "--model", TINY_MODEL], { ...sandbox(), env: { K2_TEMPERATURE: "warm" } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("K2_TEMPERATURE");
  });

  it("model folder missing or not a K2 checkpoint → 1", () => {
    const box = sandbox();
    const missing = k2(["--model", "/nonexistent/k2", "-p", "hi"], box);
    expect(missing.code).toBe(1);
    expect(oneLine(missing.stderr)).toEqual(["k2: /nonexistent/k2: model folder does not exist (from --model)"]);
    const llama = path.join(box.cwd, "llama");
    mkdirSync(llama);
    writeFileSync(path.join(llama, "config.json"), JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama" }));
    const wrong = k2(["--model", llama, "-p", "hi"], box);
    expect(wrong.code).toBe(1);
    expect(oneLine(wrong.stderr)).toHaveLength(1);
    expect(wrong.stderr).toMatch(/not a K2/);
  });

  it("no model anywhere → 2 with how to download one", () => {
    const box = sandbox();
    const r = k2(["-p", "hi"], { ...box, env: { K2_MODEL: "", HF_HUB_CACHE: box.cwd } });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain("huggingface-cli download moonshotai/Kimi-K2-Thinking");
  });

  it("unreadable stdin → 2", () => {
    const box = sandbox();
    const r = k2(["--model", TINY_MODEL, "-p", "hi"], { ...box, stdinFile: box.cwd });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual(["k2: cannot read stdin: it is a directory"]);
  });

  it("no prompt at all (empty stdin, no -p) → 2", () => {
    const r = k2(["--model", TINY_MODEL], { ...sandbox(), input: "" });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
  });
});
