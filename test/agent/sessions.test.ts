import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeTempRepo, type TempRepo } from "./temp_repo.js";
import { transpileForChild } from "./transpile_for_child.js";
import { ScriptedChatModel } from "../helpers/scripted_chat_model.js";
import { Agent, resumeOptions } from "../../src/agent/agent.js";
import type { ChatMessage } from "../../src/chat/messages.js";
import { SessionWriter, configHash, findSession, latestSession, listSessions, loadSessionFile } from "../../src/agent/session/session_store.js";

let repo: TempRepo;
let dir: string;
beforeEach(() => {
  repo = makeTempRepo({ "a.txt": "alpha\n" });
  dir = mkdtempSync(path.join(os.tmpdir(), "k2-sessions-"));
});
afterEach(() => {
  repo.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const header = (cwd: string) => ({ cwd, model: { name: "m", path: "/models/k2", configHash: configHash({ b: 1, a: [2] }) }, sampling: { temperature: 0.6, topP: 0.95 }, seed: 7 });

describe("session store", () => {
  it("records the header and each message; lists, finds by prefix and continues the latest per cwd", () => {
    const w = SessionWriter.create(dir, header(repo.root));
    w.appendMessage({ role: "user", content: "first question\nsecond line" });
    w.appendMessage({ role: "assistant", content: "answer" });
    w.append({ type: "todos", at: "t", items: [{ content: "x", status: "pending" }] });
    w.close();
    const other = SessionWriter.create(dir, header("/somewhere/else"));
    other.appendMessage({ role: "user", content: "elsewhere" });
    other.close();

    const loaded = findSession(dir, w.id.slice(0, -1));
    expect(loaded.header).toMatchObject({ type: "header", version: 1, id: w.id, cwd: repo.root, model: { name: "m", path: "/models/k2", configHash: configHash({ a: [2], b: 1 }) }, sampling: { temperature: 0.6, topP: 0.95 }, seed: 7 });
    expect(loaded.messages).toEqual([{ role: "user", content: "first question\nsecond line" }, { role: "assistant", content: "answer" }]);
    expect(loaded.todos).toEqual([{ content: "x", status: "pending" }]);
    const all = listSessions(dir);
    expect(all.map((s) => s.id).sort()).toEqual([w.id, other.id].sort());
    expect(listSessions(dir, { cwd: repo.root }).map((s) => [s.title, s.messageCount])).toEqual([["first question", 2]]);
    expect(latestSession(dir, repo.root)?.header.id).toBe(w.id);
    expect(latestSession(dir, "/nowhere")).toBeNull();
    expect(() => findSession(dir, "zzz")).toThrow(/no session "zzz"/);
    expect(() => findSession(dir, "")).toThrow(/ambiguous/);
  });

  it("writes nothing until the first record, and lists only sessions with messages", () => {
    const w = SessionWriter.create(dir, header(repo.root));
    expect(listSessions(dir)).toEqual([]);
    expect(() => readFileSync(w.file)).toThrow();
    w.append({ type: "todos", at: "t", items: [] });
    expect(JSON.parse(readFileSync(w.file, "utf8").split("\n")[0]!)).toMatchObject({ type: "header", id: w.id });
    expect(listSessions(dir)).toEqual([]); // no message yet: nothing to resume
    w.appendMessage({ role: "user", content: "hi" });
    expect(listSessions(dir).map((s) => s.id)).toEqual([w.id]);
  });

  it("skips a torn last line but reports corruption elsewhere with file:line", () => {
    const w = SessionWriter.create(dir, header(repo.root));
    w.appendMessage({ role: "user", content: "kept" });
    w.close();
    appendFileSync(w.file, '{"type":"message","at":"x","message":{"role":"assis');
    expect(loadSessionFile(w.file).messages).toEqual([{ role: "user", content: "kept" }]);
    const text = readFileSync(w.file, "utf8").split("\n");
    writeFileSync(w.file, [text[0], "garbage", text[1], ""].join("\n"));
    expect(() => loadSessionFile(w.file)).toThrow(`${w.file}:2: session line is not valid JSON`);
  });

  it("compaction records replace the transcript on load", () => {
    const w = SessionWriter.create(dir, header(repo.root));
    w.appendMessage({ role: "user", content: "old" });
    w.append({ type: "compaction", at: "t", summary: "S", messages: [{ role: "user", content: "summary S" }] });
    w.appendMessage({ role: "assistant", content: "new" });
    expect(loadSessionFile(w.file).messages).toEqual([{ role: "user", content: "summary S" }, { role: "assistant", content: "new" }]);
  });
});

describe("kill -9 during a turn, then resume", () => {
  it("keeps every completed message, and the resumed agent continues from them in the same file", async () => {
    const child = transpileForChild("test/agent/crash_child.ts");
    try {
      const proc = spawn(process.execPath, [child.entry, repo.root, dir, "5"], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      proc.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on("exit", (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on("data", (d) => {
          stdout += d;
          if (stdout.includes("HANGING\n")) resolve();
        });
        proc.on("exit", () => reject(new Error(`child exited before hanging: ${stderr}`)));
      });
      proc.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");

      const printed: ChatMessage[] = stdout.split("\n").filter((l) => l.startsWith("MESSAGE ")).map((l) => JSON.parse(l.slice(8)));
      expect(printed).toHaveLength(1 + 5 * 2); // user + 5 × (assistant call, tool result)
      const [file] = listSessions(dir).map((s) => s.file);
      const loaded = loadSessionFile(file!);
      expect(loaded.messages).toEqual(printed);
      expect(loaded.header).toMatchObject({ model: { path: "/models/k2", configHash: "abc123" }, sampling: { temperature: 1, seed: 42 }, seed: 42 });

      const model = new ScriptedChatModel([{ content: "Resumed and finished." }]);
      const agent = new Agent({ model, cwd: repo.root, systemPrompt: "SYSTEM", ...resumeOptions(latestSession(dir, repo.root)!) });
      for await (const ev of agent.run("please finish")) void ev;
      expect(model.requests[0]!.messages.slice(1, 1 + printed.length)).toEqual(printed);
      const after = loadSessionFile(file!);
      expect(after.messages).toEqual([...printed, { role: "user", content: "please finish" }, { role: "assistant", content: "Resumed and finished." }]);
      expect(listSessions(dir)).toHaveLength(1);
    } finally {
      child.cleanup();
    }
  });
});
