// Runs in a worker thread (test/engine/worker_threads.test.ts): opens the engine from the built
// dist, generates greedily and posts the ids back.
import { parentPort, workerData } from "node:worker_threads";
import { openEngine } from "../../dist/src/engine/open_engine.js";

const engine = await openEngine(workerData.dir, { threads: 2, contextSize: 256 });
const session = engine.createSession();
const ids = [];
for await (const ev of session.generate(workerData.prompt, { temperature: 0, maxTokens: workerData.maxTokens, stopIds: [] }))
  if (ev.type === "token") ids.push(ev.id);
session.dispose();
engine.dispose();
parentPort.postMessage(ids);
