// Sessions as JSONL, one file per session under a data directory the caller chooses
// (`$XDG_DATA_HOME/k2/sessions` or `$K2_HOME/sessions`, decided by the config module).
// Line 1 is a header (model path + config hash, sampler settings, seed); every later line is one
// record written and fsync'd the moment it happens, so a crash or `kill -9` loses nothing that
// was finished. A torn last line (killed mid-write) is skipped on load.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { K2Error } from "../../errors.js";
import type { ChatMessage } from "../../chat/messages.js";
import type { SamplingOptions } from "../../engine/types.js";
import type { TodoItem } from "../events.js";

export const SESSION_FORMAT_VERSION = 1;

export interface SessionHeader {
  type: "header";
  version: number;
  id: string;
  createdAt: string;
  /** Where the agent ran (resume filters by it). */
  cwd: string;
  model: { name: string; path?: string; configHash?: string };
  sampling: SamplingOptions;
  seed?: number;
}

export type SessionRecord =
  | SessionHeader
  | { type: "message"; at: string; message: ChatMessage }
  /** Compaction replaced the transcript with `messages` (a summary plus the kept recent turns). */
  | { type: "compaction"; at: string; summary: string; messages: ChatMessage[] }
  | { type: "todos"; at: string; items: TodoItem[] };

export interface LoadedSession {
  header: SessionHeader;
  file: string;
  messages: ChatMessage[];
  todos: TodoItem[];
}

export interface SessionSummary {
  id: string;
  file: string;
  createdAt: string;
  updatedAt: Date;
  cwd: string;
  model: string;
  /** First line of the first user message, for the /resume picker. */
  title: string;
  messageCount: number;
}

/** Stable hash of a configuration object (keys sorted), for the header. */
export function configHash(config: unknown): string {
  const stable = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, stable((v as Record<string, unknown>)[k])]))
      : Array.isArray(v) ? v.map(stable) : v;
  return createHash("sha256").update(JSON.stringify(stable(config))).digest("hex").slice(0, 16);
}

function newSessionId(now: Date): string {
  const t = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${t}-${randomBytes(3).toString("hex")}`;
}

class SessionError extends K2Error {}

export class SessionWriter {
  private fd: number | null = null;
  private closed = false;
  /** A new session's header, written with its first record so opening k2 and quitting leaves no file. */
  private pendingHeader: SessionHeader | null;

  private constructor(readonly file: string, readonly id: string, header: SessionHeader | null) {
    this.pendingHeader = header;
  }

  /** Starts a new session; its file appears with the first record appended. */
  static create(dir: string, header: Omit<SessionHeader, "type" | "version" | "id" | "createdAt">): SessionWriter {
    const now = new Date();
    const id = newSessionId(now);
    return new SessionWriter(path.join(dir, `${id}.jsonl`), id, { type: "header", version: SESSION_FORMAT_VERSION, id, createdAt: now.toISOString(), ...header });
  }

  /** Reopens an existing session to append to it (resume). */
  static open(file: string, id: string): SessionWriter {
    return new SessionWriter(file, id, null);
  }

  private ensureOpen(): number {
    if (this.closed) throw new SessionError(`${this.file}: session is closed`);
    if (this.fd !== null) return this.fd;
    const dir = path.dirname(this.file);
    try {
      mkdirSync(dir, { recursive: true });
      this.fd = openSync(this.file, "a");
    } catch (err) {
      throw new SessionError(`${this.file}: cannot open session file: ${(err as Error).message}`);
    }
    if (this.pendingHeader) {
      this.writeLine(this.fd, this.pendingHeader);
      this.pendingHeader = null;
      // Make the new directory entry itself durable.
      const dfd = openSync(dir, "r");
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    }
    return this.fd;
  }

  private writeLine(fd: number, record: SessionRecord): void {
    // One write per line so a kill can tear at most the line being written.
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  }

  append(record: SessionRecord): void {
    this.writeLine(this.ensureOpen(), record);
  }

  appendMessage(message: ChatMessage): void {
    this.append({ type: "message", at: new Date().toISOString(), message });
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.closed = true;
  }
}

function parseLines(file: string): SessionRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new SessionError(`${file}: cannot read session: ${(err as Error).message}`);
  }
  const lines = text.split("\n");
  const records: SessionRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as SessionRecord);
    } catch {
      // Only the final line can be torn by a crash; damage anywhere else is real corruption.
      const isLast = lines.slice(i + 1).every((l) => l.trim() === "");
      if (isLast) break;
      throw new SessionError(`${file}:${i + 1}: session line is not valid JSON`);
    }
  }
  const header = records[0];
  if (!header || header.type !== "header") throw new SessionError(`${file}:1: not a k2 session (no header line)`);
  if (header.version !== SESSION_FORMAT_VERSION) throw new SessionError(`${file}:1: session format version ${header.version} is not supported (expected ${SESSION_FORMAT_VERSION})`);
  return records;
}

export function loadSessionFile(file: string): LoadedSession {
  const records = parseLines(file);
  const header = records[0] as SessionHeader;
  let messages: ChatMessage[] = [];
  let todos: TodoItem[] = [];
  for (const r of records.slice(1)) {
    if (r.type === "message") messages.push(r.message);
    else if (r.type === "compaction") messages = [...r.messages];
    else if (r.type === "todos") todos = r.items;
  }
  return { header, file, messages, todos };
}

function sessionFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith(".jsonl")).map((f) => path.join(dir, f));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new SessionError(`${dir}: cannot list sessions: ${(err as Error).message}`);
  }
}

/** Sessions with at least one message, newest first (by last write). Unreadable files are skipped, not fatal. */
export function listSessions(dir: string, options: { cwd?: string } = {}): SessionSummary[] {
  const out: SessionSummary[] = [];
  for (const file of sessionFiles(dir)) {
    let loaded: LoadedSession;
    try {
      loaded = loadSessionFile(file);
    } catch {
      continue; // a foreign or damaged file must not hide the others from the picker
    }
    if (options.cwd && path.resolve(loaded.header.cwd) !== path.resolve(options.cwd)) continue;
    if (loaded.messages.length === 0) continue;
    const firstUser = loaded.messages.find((m) => m.role === "user");
    const text = firstUser ? (typeof firstUser.content === "string" ? firstUser.content : firstUser.content.map((p) => p.text).join("")) : "";
    out.push({
      id: loaded.header.id,
      file,
      createdAt: loaded.header.createdAt,
      updatedAt: statSync(file).mtime,
      cwd: loaded.header.cwd,
      model: loaded.header.model.name,
      title: text.split("\n")[0]!.slice(0, 80),
      messageCount: loaded.messages.length,
    });
  }
  return out.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? 1 : -1));
}

/** `--resume ID`: an exact id or a unique prefix. */
export function findSession(dir: string, idOrPrefix: string): LoadedSession {
  const files = sessionFiles(dir).filter((f) => path.basename(f, ".jsonl").startsWith(idOrPrefix));
  const exact = files.find((f) => path.basename(f, ".jsonl") === idOrPrefix);
  if (exact) return loadSessionFile(exact);
  if (files.length === 0) throw new SessionError(`no session "${idOrPrefix}" in ${dir}`);
  if (files.length > 1) throw new SessionError(`session id "${idOrPrefix}" is ambiguous: ${files.map((f) => path.basename(f, ".jsonl")).join(", ")}`);
  return loadSessionFile(files[0]!);
}

/** `--continue`: the most recent session started in `cwd`, or null. */
export function latestSession(dir: string, cwd: string): LoadedSession | null {
  const newest = listSessions(dir, { cwd })[0];
  return newest ? loadSessionFile(newest.file) : null;
}
