// Child process for the kill -9 test: runs an agent turn whose model makes `steps` tool calls
// and then hangs mid-generation. Prints each message as it is appended, then "HANGING".
import { Agent } from "../../src/agent/agent.js";
import { SessionWriter } from "../../src/agent/session/session_store.js";
import { ScriptedChatModel, type ScriptStep } from "../helpers/scripted_chat_model.js";

const [repoRoot, sessionsDir, stepsArg] = process.argv.slice(2) as [string, string, string];
const steps = Number(stepsArg);
const script: ScriptStep[] = [];
for (let i = 0; i < steps; i++) script.push({ reasoning: `step ${i}`, calls: [{ name: "read_file", args: { path: "a.txt" } }] });
script.push({ content: "partial answer that never finish", hang: true });

const session = SessionWriter.create(sessionsDir, { cwd: repoRoot, model: { name: "scripted", path: "/models/k2", configHash: "abc123" }, sampling: { temperature: 1, seed: 42 }, seed: 42 });
const agent = new Agent({ model: new ScriptedChatModel(script), cwd: repoRoot, systemPrompt: "SYSTEM", session, sampling: { temperature: 1, seed: 42 } });
for await (const ev of agent.run("read a.txt many times")) {
  if (ev.type === "message") process.stdout.write(`MESSAGE ${JSON.stringify(ev.message)}\n`);
  if (ev.type === "model" && ev.event.type === "content") process.stdout.write("HANGING\n");
}
