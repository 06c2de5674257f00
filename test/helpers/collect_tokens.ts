// Drains a token stream: the ids in order and the `done` stats.
import { expect } from "vitest";
import type { GenerationStats, TokenEvent } from "../../src/engine/types.js";

export async function collect(it: AsyncIterable<TokenEvent>): Promise<{ ids: number[]; stats: GenerationStats }> {
  const ids: number[] = [];
  let stats: GenerationStats | undefined;
  for await (const ev of it) {
    if (ev.type === "token") ids.push(ev.id);
    else stats = ev.stats;
  }
  expect(stats).toBeDefined();
  return { ids, stats: stats! };
}
