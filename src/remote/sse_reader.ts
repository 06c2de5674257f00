// Server-sent events from a byte stream, per the WHATWG event-stream format: lines split on CR, LF
// or CRLF (even across chunk boundaries), `data:` lines of one event joined with "\n", comments
// (keep-alives) skipped, an event dispatched at each blank line.
export interface SseEvent {
  event: string;
  data: string;
}

export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let sawCR = false;

  function* lines(text: string): Generator<string> {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 && sawCR && i === start) {
        // The LF of a CRLF split across chunks.
        start = i + 1;
        sawCR = false;
        continue;
      }
      sawCR = false;
      if (c === 10 || c === 13) {
        yield buffer + text.slice(start, i);
        buffer = "";
        if (c === 13) {
          if (text.charCodeAt(i + 1) === 10) i++;
          else if (i + 1 === text.length) sawCR = true;
        }
        start = i + 1;
      }
    }
    buffer += text.slice(start);
  }

  function* feed(text: string): Generator<SseEvent> {
    for (const line of lines(text)) {
      if (line === "") {
        if (data.length > 0) yield { event: event || "message", data: data.join("\n") };
        data = [];
        event = "";
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
    }
  }

  for await (const chunk of body) yield* feed(decoder.decode(chunk, { stream: true }));
  yield* feed(decoder.decode());
  // A final event without its blank line is still an event (servers that close right after it).
  if (buffer !== "") yield* feed("\n");
  if (data.length > 0) yield { event: event || "message", data: data.join("\n") };
}
