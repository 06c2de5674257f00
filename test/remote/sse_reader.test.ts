// The SSE reader against the event-stream format's edge cases, fed byte by byte and in odd splits.
import { describe, expect, it } from "vitest";
import { readSse, type SseEvent } from "../../src/remote/sse_reader.js";

async function read(text: string, pieces: number[]): Promise<SseEvent[]> {
  const bytes = Buffer.from(text, "utf8");
  async function* body(): AsyncGenerator<Uint8Array> {
    let i = 0;
    for (let k = 0; i < bytes.length; k++) {
      const n = pieces[k % pieces.length]!;
      yield bytes.subarray(i, i + n);
      i += n;
    }
  }
  const out: SseEvent[] = [];
  for await (const e of readSse(body())) out.push(e);
  return out;
}

const stream = ': comment\r\ndata: {"a":"é漢"}\r\n\r\nevent: error\ndata: line1\ndata: line2\n\ndata:nospace\r\rdata\n\nretry: 10\nid: 4\n\ndata: tail';

describe("readSse", () => {
  it.each([[[1]], [[2, 3]], [[1000]], [[5, 1, 7]]])("parses the same events whatever the read sizes %j", async (pieces) => {
    expect(await read(stream, pieces)).toEqual([
      { event: "message", data: '{"a":"é漢"}' },
      { event: "error", data: "line1\nline2" },
      { event: "message", data: "nospace" },
      { event: "message", data: "" },
      { event: "message", data: "tail" },
    ]);
  });

  it("skips blank events and keep-alive comments", async () => {
    expect(await read(":ping\n\n\n\n: ping\n\ndata: x\n\n", [3])).toEqual([{ event: "message", data: "x" }]);
  });
});
