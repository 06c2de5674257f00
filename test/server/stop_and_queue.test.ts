// The two pieces of server logic with state machines of their own: stop-string matching over
// streamed text, and the bounded FIFO generation queue.
import { describe, expect, it } from "vitest";
import { GenerationQueue } from "../../src/server/generation_queue.js";
import { HttpError } from "../../src/server/http_error.js";
import { StopSequenceMatcher } from "../../src/server/stop_sequences.js";

function feed(stops: string[], pieces: string[]): { out: string; stopped: boolean } {
  const m = new StopSequenceMatcher(stops);
  let out = "";
  for (const p of pieces) out += m.push(p);
  out += m.flush();
  return { out, stopped: m.stopped };
}

describe("StopSequenceMatcher", () => {
  it.each([
    [["END"], ["abc", "E", "N", "D", "tail"], "abc", true],
    [["END"], ["abcEN"], "abcEN", false], // a partial match at the end of the turn is text
    [["END"], ["abcENX"], "abcENX", false],
    [["END"], ["END"], "", true],
    [["b", "ab"], ["xa", "bz"], "x", true], // whichever match starts first, not first listed
    [["aab"], ["a", "a", "a", "b"], "a", true], // the held prefix slides
    [["</x>", "\n\n"], ["line\n", "\nmore"], "line", true],
    [[], ["any", "thing"], "anything", false],
    [["字"], ["汉", "字", "后"], "汉", true],
  ])("stops %j over %j → %j", (stops, pieces, out, stopped) => {
    expect(feed(stops, pieces)).toEqual({ out, stopped });
  });

  it("holds back only what could still become a stop string", () => {
    const m = new StopSequenceMatcher(["STOP"]);
    expect(m.push("hello ST")).toBe("hello ");
    expect(m.push("ART")).toBe("START");
  });
});

describe("GenerationQueue", () => {
  it("grants in arrival order, one at a time, and refuses past the bound", async () => {
    const q = new GenerationQueue(2);
    const signal = new AbortController().signal;
    const order: number[] = [];
    const r0 = (await q.acquire(signal))!;
    const p1 = q.acquire(signal).then((r) => (order.push(1), r!));
    const p2 = q.acquire(signal).then((r) => (order.push(2), r!));
    expect(q.waiting).toBe(2);
    const full = await q.acquire(signal).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(HttpError);
    expect((full as HttpError).status).toBe(429);
    r0();
    const r1 = await p1;
    expect(order).toEqual([1]);
    r1();
    r1(); // releasing twice must not grant twice
    const r2 = await p2;
    expect(order).toEqual([1, 2]);
    expect(q.running).toBe(true);
    r2();
    expect(q.running).toBe(false);
  });

  it("drops a waiter whose signal aborts, and passes the slot to the next", async () => {
    const q = new GenerationQueue(4);
    const live = new AbortController().signal;
    const r0 = (await q.acquire(live))!;
    const leaving = new AbortController();
    const p1 = q.acquire(leaving.signal);
    const p2 = q.acquire(live);
    leaving.abort();
    expect(await p1).toBeNull();
    expect(q.waiting).toBe(1);
    r0();
    expect(typeof (await p2)).toBe("function");
    const aborted = new AbortController();
    aborted.abort();
    expect(await q.acquire(aborted.signal)).toBeNull();
  });
});

describe("GenerationQueue.idle", () => {
  it("resolves only after the running generation and every waiter are gone", async () => {
    const q = new GenerationQueue(4);
    await q.idle(); // idle from the start
    const r0 = (await q.acquire(new AbortController().signal))!;
    const leaving = new AbortController();
    const waiter = q.acquire(leaving.signal);
    let idle = false;
    const p = q.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(idle).toBe(false);
    leaving.abort();
    expect(await waiter).toBeNull();
    r0();
    await p;
    expect(idle).toBe(true);
  });
});
