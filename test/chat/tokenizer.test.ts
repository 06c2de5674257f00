import { readFileSync } from "node:fs";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointError } from "../../src/errors.js";
import { loadTokenizer } from "../../src/chat/tokenizer.js";
import { splitForEncoding } from "../../src/chat/encode_chunks.js";
import { StreamDecoder } from "../../src/chat/stream_decoder.js";
import { Tiktoken } from "tiktoken";
import { K2_JS_CLASSES, K2_PAT_STR } from "../../src/chat/k2_pretokenizer.js";
import { readTokenizerFiles } from "../../src/chat/tokenizer_files.js";
import { seededRng as rng } from "../helpers/seeded_rng.js";

const VOCAB = "../shared/vocab/kimi-k2";
const TINY = "../shared/fixtures/kimi-k2-tiny";
const samples = JSON.parse(readFileSync("../shared/fixtures/tokenizer/k2-samples.json", "utf8")) as {
  samples: { text: string; ids: number[] }[];
};


// Random text drawn from ranges that exercise every branch of the pre-tokenizer: ASCII, accents,
// combining marks, CJK, Hangul, Arabic, emoji (astral), whitespace kinds, digits, specials' text.
function randomText(r: () => number, maxLen: number): string {
  const ranges: [number, number][] = [
    [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0xa0, 0x24f], [0x300, 0x36f], [0x391, 0x3c9],
    [0x410, 0x44f], [0x600, 0x6ff], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1f64f],
    [0x2000, 0x206f], [0x3000, 0x303f], [0xff00, 0xffef], [0x1d400, 0x1d7ff], [0x20000, 0x2a6df],
  ];
  const pieces = ["<|im_end|>", "<think>", "[EOS]", "'s", "'LL", "\r\n", "  ", "123456"];
  let out = "";
  const len = Math.floor(r() * maxLen);
  for (let i = 0; i < len; i++) {
    if (r() < 0.05) {
      out += pieces[Math.floor(r() * pieces.length)];
      continue;
    }
    const [lo, hi] = ranges[Math.floor(r() * ranges.length)]!;
    out += String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
  }
  return out;
}

describe("K2 tokenizer (real 163,584-rank vocabulary)", () => {
  const tok = loadTokenizer(VOCAB);

  it("knows the vocabulary layout and the named special tokens", () => {
    expect(tok.baseVocabSize).toBe(163584);
    expect(tok.vocabSize).toBe(163840);
    expect(tok.specialId("[BOS]")).toBe(163584);
    expect(tok.specialId("<|im_end|>")).toBe(163586);
    expect(tok.specialId("<|tool_call_begin|>")).toBe(163597);
    expect(tok.specialId("</think>")).toBe(163607);
    expect(tok.specialName(163700)).toBe("<|reserved_token_163700|>");
    expect(tok.bosId).toBe(163584);
    expect(tok.eosId).toBe(163586);
    expect([...tok.stopIds].sort()).toEqual([163585, 163586]);
  });

  it.each(samples.samples.map((s) => [JSON.stringify(s.text).slice(0, 50), s] as const))(
    "encodes %s to the official ids and decodes back",
    (_name, sample) => {
      expect(tok.encodeWithSpecials(sample.text)).toEqual(sample.ids);
      expect(tok.decode(sample.ids)).toBe(sample.text);
    },
  );

  it("keeps special-token text as ordinary tokens when specials are disallowed", () => {
    const text = "<|im_user|>user<|im_middle|>hi<|im_end|>[EOS]<think>x</think>";
    const ids = tok.encode(text, { allowSpecial: false });
    expect(ids.every((id) => id < tok.baseVocabSize)).toBe(true);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.encode(text, { allowSpecial: true })).toContain(163587);
  });

  it("round-trips random Unicode strings, and both modes agree on text without special names", () => {
    const r = rng(12345);
    for (let i = 0; i < 300; i++) {
      const text = randomText(r, 80);
      const ids = tok.encodeOrdinary(text);
      expect(tok.decode(ids)).toBe(text);
      const plain = text.replace(/<\|im_end\|>|<think>|\[EOS\]/g, "");
      expect(tok.encodeWithSpecials(plain)).toEqual(tok.encodeOrdinary(plain));
    }
  });

  it("is loaded once per directory", () => {
    expect(loadTokenizer(VOCAB)).toBe(tok);
    expect(loadTokenizer(`${VOCAB}/`)).toBe(tok);
  });

  it("rejects ids outside the vocabulary with a RangeError", () => {
    expect(() => tok.decode([163840])).toThrow(RangeError);
    expect(() => tok.decode([-1])).toThrow(RangeError);
  });
});

// Official tiktoken (its Rust core, built to WASM) with Kimi's own pat_str, as the oracle for our
// JavaScript BPE and the regex translation.
function officialEncoder(dir: string): Tiktoken {
  const files = readTokenizerFiles(dir);
  return new Tiktoken(files.ranksText, Object.fromEntries([...files.specialNames].map(([id, n]) => [n, id])), K2_PAT_STR);
}

describe("identical ids to official tiktoken", () => {
  const tok = loadTokenizer(VOCAB);
  const official = officialEncoder(VOCAB);
  const same = (text: string): void => {
    expect(tok.encodeOrdinary(text), JSON.stringify(text)).toEqual(Array.from(official.encode_ordinary(text)));
  };

  it("on the pre-tokenizer's corner cases", () => {
    const cases = [
      "I'ſ it'S HE'LL we'Ve 'd'D", // case-insensitive contractions, long s folds to s
      "a\u0085b\uFEFFc \u0085 \uFEFF", // White_Space differs between Rust's and JS's \s
      "々〆〇〡〻㐀 漢字、日本語。ｶﾀｶﾅ ﾟ", // Han script vs Han-adjacent letters and marks
      "\u0301é e\u0301 漢\u0301 ǅungla ᾈ ʰʲ", // marks, titlecase, modifier letters
      "👩‍👩‍👧‍👦 🏳️‍🌈 1️⃣ \uD800 x\uDC00", // ZWJ emoji, keycaps, lone surrogates
      "1234567 ١٢٣٤ Ⅻ ½ ①②③④", // numbers of every kind, in 1..3 runs
      "  \n\n  \t\r\n\r\n   x  \n ", // whitespace splits and lookahead
      "<|im_end|> [EOS] <think>", // special names are plain text here
    ];
    for (const text of cases) same(text);
  });

  it("classifies every code point as tiktoken's regex does", () => {
    // A probe vocabulary of the 256 single bytes: tiktoken then returns the UTF-8 bytes of exactly
    // the characters its pattern matches, which reveals its character class.
    const bytes = Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString("base64")} ${b}`).join("\n");
    const chars: string[] = [];
    for (let cp = 0; cp < 0x110000; cp++) if (cp < 0xd800 || cp > 0xdfff) chars.push(String.fromCodePoint(cp));
    const all = chars.join("");
    const probes: [string, string][] = [
      [String.raw`[\p{Han}]`, K2_JS_CLASSES.HAN],
      [String.raw`[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]`, K2_JS_CLASSES.UPPER],
      [String.raw`[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]`, K2_JS_CLASSES.LOWER],
      [String.raw`[\p{L}\p{N}]`, K2_JS_CLASSES.LETTER_OR_DIGIT],
      [String.raw`\p{N}`, K2_JS_CLASSES.DIGIT],
      [String.raw`\s`, K2_JS_CLASSES.SPACE],
    ];
    for (const [rustClass, jsClass] of probes) {
      const probe = new Tiktoken(bytes, {}, rustClass);
      const matched = Buffer.from(probe.encode_ordinary(all)).toString("utf8");
      probe.free();
      const ours = all.match(new RegExp(jsClass, "gv"))!.join("");
      expect(ours === matched, `${rustClass}: ${[...ours].length} code points in JS vs ${[...matched].length} in tiktoken`).toBe(true);
    }
  });

  it("on random text from many scripts", () => {
    const r = rng(2024);
    for (let i = 0; i < 400; i++) same(randomText(r, 120));
  });

  it("on long pieces (merged through the heap path)", () => {
    const r = rng(77);
    const alphabets = ["ab", "xyz ", "aaaa", "tion", "é漢a", "0123456789", "+/=Aa09", "-_=+", "🚀a"];
    for (let i = 0; i < 40; i++) {
      const abc = [...alphabets[i % alphabets.length]!];
      const len = 257 + Math.floor(r() * 3000);
      let text = "";
      for (let k = 0; k < len; k++) text += abc[Math.floor(r() * abc.length)];
      same(text);
    }
    same("a".repeat(5000));
    same("=".repeat(4096));
  });

  it("with the tiny fixture's own 1,280-rank vocabulary", () => {
    const tiny = loadTokenizer(TINY);
    const tinyOfficial = officialEncoder(TINY);
    const r = rng(5);
    for (let i = 0; i < 200; i++) {
      const text = randomText(r, 60);
      expect(tiny.encodeOrdinary(text)).toEqual(Array.from(tinyOfficial.encode_ordinary(text)));
    }
    tinyOfficial.free();
  });
});

describe("streaming decoder", () => {
  const tok = loadTokenizer(VOCAB);

  it("never emits half a UTF-8 character and renders specials by name", () => {
    const text = "Emoji: 🚀🔥👍🏽 flags 🇨🇳🇺🇸 月之暗面 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 é";
    const ids = [tok.specialId("<think>"), ...tok.encodeOrdinary(text), tok.specialId("<|im_end|>")];
    const dec = new StreamDecoder(tok);
    const chunks = ids.map((id) => dec.push(id));
    chunks.push(dec.flush());
    expect(chunks.join("")).toBe(`<think>${text}<|im_end|>`);
    for (const c of chunks) expect(c).not.toContain("\uFFFD");
    // Some emoji span several tokens: those tokens must have produced empty chunks, not garbage.
    expect(chunks.some((c) => c === "")).toBe(true);
  });

  it("turns a character cut off by the end of the stream into U+FFFD on flush", () => {
    const ids = tok.encodeOrdinary("🚀");
    expect(ids.length).toBeGreaterThan(1);
    const dec = new StreamDecoder(tok);
    expect(dec.push(ids[0]!)).toBe("");
    expect(dec.flush()).toBe("\uFFFD");
  });
});

describe("tiny fixture tokenizer", () => {
  it("encodes the golden prompt text to the golden prompt ids", () => {
    const golden = JSON.parse(readFileSync(`${TINY}/golden.json`, "utf8")) as { prompt_text: string; prompt_ids: number[] };
    const tok = loadTokenizer(TINY);
    expect(tok.baseVocabSize).toBe(1280);
    expect(tok.specialId("<|im_end|>")).toBe(1282);
    expect(tok.encodeWithSpecials(golden.prompt_text)).toEqual(golden.prompt_ids);
    expect(tok.decode(golden.prompt_ids)).toBe(golden.prompt_text);
  });
});

describe("Kimi's long-input cuts", () => {
  it("cuts runs longer than 25,000 characters like tokenization_kimi.py", () => {
    const parts = splitForEncoding("a".repeat(60_000) + " ".repeat(10) + "b");
    expect(parts.map((p) => p.length)).toEqual([25_000, 25_000, 10_011]);
    expect(splitForEncoding("short")).toEqual(["short"]);
  });

  it("cuts every 400,000 code points, counting astral characters once", () => {
    const text = "ab ".repeat(150_000) + "🚀".repeat(10);
    const parts = splitForEncoding(text);
    expect(parts.join("")).toBe(text);
    expect(parts.length).toBe(2);
    expect([...parts[1]!].length).toBe(450_010 - 400_000);
  });
});

describe("tokenizer directory errors", () => {
  it("names the missing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "k2-tok-"));
    expect(() => loadTokenizer(dir)).toThrow(CheckpointError);
    expect(() => loadTokenizer(dir)).toThrow(/tiktoken\.model: not found/);
  });

  it("names the bad line of a malformed rank file", () => {
    const dir = mkdtempSync(join(tmpdir(), "k2-tok-"));
    const lines = Array.from({ length: 256 }, (_, i) => `${Buffer.from([i]).toString("base64")} ${i}`);
    lines[7] = "not a rank line";
    writeFileSync(join(dir, "tiktoken.model"), lines.join("\n"));
    writeFileSync(join(dir, "tokenizer_config.json"), "{}");
    expect(() => loadTokenizer(dir)).toThrow(/line 8: expected/);
  });

  it.each([
    ["a repeated token", (lines: string[]) => lines.push(`${Buffer.from([65]).toString("base64")} 256`), /token 256 repeats token 65/],
    ["bad base64", (lines: string[]) => (lines[3] = "@@@= 3"), /line 4: the token is not valid base64/],
    ["a missing single byte", (lines: string[]) => (lines[9] = `${Buffer.from("ab").toString("base64")} 9`), /no token for the single byte 0x09/],
  ])("rejects a rank file with %s", (_name, spoil, message) => {
    const dir = mkdtempSync(join(tmpdir(), "k2-tok-"));
    const lines = Array.from({ length: 256 }, (_, i) => `${Buffer.from([i]).toString("base64")} ${i}`);
    spoil(lines);
    writeFileSync(join(dir, "tiktoken.model"), lines.join("\n"));
    writeFileSync(join(dir, "tokenizer_config.json"), "{}");
    expect(() => loadTokenizer(dir)).toThrow(CheckpointError);
    expect(() => loadTokenizer(dir)).toThrow(message);
  });
});
