// Child process for failed_load_retry.test.ts: loads a working engine, then fails to load a bad
// checkpoint N times. Runs apart from vitest because a regression is a hang in native code, which
// blocks the whole process (no test timeout could fire).
import { openEngine } from "../../src/engine/open_engine.js";

const [bad, good, times] = process.argv.slice(2);
const engine = await openEngine(good!, { threads: 2 });
for (let i = 0; i < Number(times); i++) {
  try {
    (await openEngine(bad!, { threads: 4 })).dispose();
    console.log("UNEXPECTED: loaded");
    process.exit(1);
  } catch (err) {
    if (i === 0) console.log(`ERROR ${(err as Error).name}: ${(err as Error).message}`);
  }
}
const session = engine.createSession();
let tokens = 0;
for await (const ev of session.generate([1, 2, 3], { maxTokens: 2, temperature: 0 })) if (ev.type === "token") tokens++;
session.dispose();
engine.dispose();
console.log(`OK ${tokens}`);
