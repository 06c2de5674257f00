// End to end through the built CLI (dist/, made by `npm ci`'s prepare or `npm run build:ts`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const BIN = "dist/src/cli/main.js";
const VOCAB = "../shared/vocab/kimi-k2";
const fixture = JSON.parse(readFileSync("../shared/fixtures/chat/k2-thinking-template.json", "utf8")) as {
  cases: { name: string; messages: unknown[]; tools?: unknown[]; expected: string }[];
};
const samples = JSON.parse(readFileSync("../shared/fixtures/tokenizer/k2-samples.json", "utf8")) as {
  samples: { text: string; ids: number[] }[];
};

function k2(args: string[], input?: string): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build:ts\` first`);
});

describe("k2 template", () => {
  const dir = mkdtempSync(join(tmpdir(), "k2-template-cli-"));

  it.each(fixture.cases.map((c) => [c.name, c] as const))("renders %s byte for byte", (name, c) => {
    const messages = join(dir, `${name}.messages.json`);
    writeFileSync(messages, JSON.stringify(c.messages));
    const args = ["template", "--model", VOCAB, "--messages", messages];
    if (c.tools !== undefined) {
      const tools = join(dir, `${name}.tools.json`);
      writeFileSync(tools, JSON.stringify(c.tools));
      args.push("--tools", tools);
    }
    const r = k2(args);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.equals(Buffer.from(c.expected, "utf8"))).toBe(true);
  });

  it("reads {messages, tools} from stdin and prints ids with --ids", () => {
    const c = fixture.cases[2]!;
    const r = k2(["template", "--model", VOCAB, "--messages", "-", "--ids"], JSON.stringify({ messages: c.messages, tools: c.tools }));
    expect(r.code).toBe(0);
    const ids = (JSON.parse(r.stdout.toString("utf8")) as { ids: number[] }).ids;
    const expectedIds = k2(["tokenize", "--model", VOCAB, "--allow-special", "--text", c.expected]);
    expect(ids).toEqual((JSON.parse(expectedIds.stdout.toString("utf8")) as { ids: number[] }).ids);
  });

  it("uses the built-in renderer for a directory without a template", () => {
    const bare = mkdtempSync(join(tmpdir(), "k2-bare-"));
    const c = fixture.cases[1]!;
    const messages = join(bare, "m.json");
    writeFileSync(messages, JSON.stringify(c.messages));
    const r = k2(["template", "--model", bare, "--messages", messages]);
    expect(r.stdout.toString("utf8")).toBe(c.expected);
  });

  it("names the bad field and exits 2 on invalid messages", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{ role: "user", content: "x" }, { role: "robot", content: "y" }]));
    const r = k2(["template", "--model", VOCAB, "--messages", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/messages\[1\]\.role/);
    expect(r.stdout.length).toBe(0);
  });
});

describe("k2 tokenize / detokenize", () => {
  it("encodes the official samples to the official ids", () => {
    for (const s of samples.samples.slice(0, 3)) {
      const r = k2(["tokenize", "--model", VOCAB, "--allow-special", "--text", s.text]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.toString("utf8"))).toEqual({ ids: s.ids });
    }
  });

  it("reads stdin and keeps special-token text ordinary unless --allow-special", () => {
    const plain = JSON.parse(k2(["tokenize", "--model", VOCAB], "<|im_end|>").stdout.toString("utf8")) as { ids: number[] };
    expect(plain.ids).not.toContain(163586);
    const special = JSON.parse(k2(["tokenize", "--model", VOCAB, "--allow-special"], "<|im_end|>").stdout.toString("utf8")) as { ids: number[] };
    expect(special.ids).toEqual([163586]);
  });

  it("decodes ids given as a list or piped from tokenize", () => {
    const s = samples.samples[0]!;
    expect(k2(["detokenize", "--model", VOCAB, "--ids", s.ids.join(",")]).stdout.toString("utf8")).toBe(s.text);
    expect(k2(["detokenize", "--model", VOCAB, "--ids", ...s.ids.map(String)]).stdout.toString("utf8")).toBe(s.text);
    expect(k2(["detokenize", "--model", VOCAB], JSON.stringify({ ids: [...s.ids, 163586] })).stdout.toString("utf8")).toBe(`${s.text}<|im_end|>`);
  });

  it("rejects bad ids and missing directories with one clear message", () => {
    const r = k2(["detokenize", "--model", VOCAB, "--ids", "1,999999"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/999999 is outside the vocabulary/);
    const m = k2(["tokenize", "--model", "/no/such/dir", "--text", "x"]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/\/no\/such\/dir: --model: no such directory/);
  });
});
