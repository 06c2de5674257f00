// `k2 template`: renders a conversation with the checkpoint's chat template, byte for byte, or
// prints its safely encoded ids.
import { UsageError } from "../../errors.js";
import { loadChatTemplate } from "../../chat/chat_template.js";
import { encodePrompt } from "../../chat/prompt_encoder.js";
import { loadTokenizer } from "../../chat/tokenizer.js";
import { parseJson, readStdinText, readTextFile, requireDirectory, writeStdout } from "./cli_input.js";

const ROLES = new Set(["system", "user", "assistant", "tool"]);

export async function runTemplate(opts: { model: string; messages: string; tools?: string; generationPrompt: boolean; ids?: boolean }): Promise<void> {
  requireDirectory(opts.model, "--model");
  const where = opts.messages === "-" ? "--messages (stdin)" : `--messages ${opts.messages}`;
  const doc = parseJson(opts.messages === "-" ? await readStdinText("template --messages -") : readTextFile(opts.messages, "--messages"), where);
  let messages: unknown;
  let tools: unknown;
  if (Array.isArray(doc)) {
    messages = doc;
  } else if (doc !== null && typeof doc === "object" && Array.isArray((doc as { messages?: unknown }).messages)) {
    messages = (doc as { messages: unknown[] }).messages;
    tools = (doc as { tools?: unknown }).tools;
  } else {
    throw new UsageError(`${where}: expected an array of messages or {"messages": [...]}`);
  }
  validateMessages(messages as unknown[], where);
  if (opts.tools !== undefined) tools = parseJson(readTextFile(opts.tools, "--tools"), `--tools ${opts.tools}`);
  if (tools !== undefined && tools !== null) validateTools(tools, opts.tools !== undefined ? `--tools ${opts.tools}` : `${where}: tools`);

  const template = loadChatTemplate(opts.model);
  const input = {
    messages: messages as unknown[],
    tools: Array.isArray(tools) ? tools : undefined,
    addGenerationPrompt: opts.generationPrompt,
  };
  if (opts.ids === true) {
    const ids = encodePrompt(loadTokenizer(opts.model), template, input);
    await writeStdout(`${JSON.stringify({ ids })}\n`);
  } else {
    await writeStdout(template.render(input));
  }
}

function validateMessages(messages: unknown[], where: string): void {
  messages.forEach((m, i) => {
    if (m === null || typeof m !== "object" || Array.isArray(m)) throw new UsageError(`${where}: messages[${i}] is not an object`);
    const role = (m as { role?: unknown }).role;
    if (typeof role !== "string" || !ROLES.has(role)) {
      throw new UsageError(`${where}: messages[${i}].role must be one of system, user, assistant, tool (got ${JSON.stringify(role)})`);
    }
    const content = (m as { content?: unknown }).content;
    if (content !== undefined && content !== null && typeof content !== "string" && !Array.isArray(content)) {
      throw new UsageError(`${where}: messages[${i}].content must be a string or an array of parts`);
    }
    const calls = (m as { tool_calls?: unknown }).tool_calls;
    if (calls !== undefined && calls !== null) {
      if (!Array.isArray(calls)) throw new UsageError(`${where}: messages[${i}].tool_calls must be an array`);
      calls.forEach((c, j) => {
        const fn = (c as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
        if (fn === undefined || fn === null || typeof fn.name !== "string") {
          throw new UsageError(`${where}: messages[${i}].tool_calls[${j}].function.name must be a string`);
        }
      });
    }
  });
}

function validateTools(tools: unknown, where: string): void {
  if (!Array.isArray(tools)) throw new UsageError(`${where}: expected an array of tool schemas`);
  tools.forEach((t, i) => {
    if (t === null || typeof t !== "object" || Array.isArray(t)) throw new UsageError(`${where}: tools[${i}] is not an object`);
  });
}
