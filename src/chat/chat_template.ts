// The chat template: messages (+ tools) → the prompt string. The checkpoint's chat_template.jinja
// (or tokenizer_config.json's chat_template) rendered with @huggingface/jinja, which follows
// transformers' settings (trim_blocks, lstrip_blocks, loop controls, Python-style tojson); the
// built-in K2 Thinking renderer when the checkpoint has none. Tools are deep-sorted by key first,
// as Kimi's tokenizer does before rendering.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Template } from "@huggingface/jinja";
import { CheckpointError, K2Error } from "../errors.js";
import { renderBuiltinK2 } from "./builtin_k2_template.js";
import { deepSortKeys } from "./python_json.js";

export interface TemplateInput {
  /** ChatMessage[] or any OpenAI-style message objects (the template reads them loosely). */
  messages: readonly unknown[];
  tools?: readonly unknown[];
  addGenerationPrompt: boolean;
}

export interface ChatTemplate {
  /** Where the template came from: a file path, or "builtin". */
  readonly origin: string;
  render(input: TemplateInput): string;
}

/**
 * sha256 of checkpoint templates that the built-in renderer reproduces exactly (test/agent/
 * incremental_prompt.test.ts renders conversations through both): the Kimi-K2-Thinking
 * chat_template.jinja (97 lines, as released 2025-11). Hashed without trailing whitespace, which
 * the template's last `-%}` strips anyway.
 */
const BUILTIN_EQUIVALENT_SHA256 = new Set(["f1838522f489f10c9196540a7e995578511168f9d6d7ce8a373909446c35d643"]);

export class JinjaChatTemplate implements ChatTemplate {
  private readonly template: Template;
  /** The source is a known K2 Thinking template: the built-in renderer gives the same strings. */
  readonly matchesBuiltinK2: boolean;

  constructor(
    source: string,
    readonly origin: string,
  ) {
    this.matchesBuiltinK2 = BUILTIN_EQUIVALENT_SHA256.has(createHash("sha256").update(source.trimEnd()).digest("hex"));
    try {
      this.template = new Template(source);
    } catch (err) {
      throw new CheckpointError(origin, `chat template does not parse: ${(err as Error).message}`, { cause: err });
    }
  }

  render(input: TemplateInput): string {
    try {
      return this.template.render({
        messages: input.messages as unknown[],
        // Absent tools must stay undefined: the template tests `{% if tools %}`.
        tools: input.tools !== undefined ? deepSortKeys(input.tools as unknown[]) : undefined,
        add_generation_prompt: input.addGenerationPrompt,
      });
    } catch (err) {
      throw new K2Error(`${this.origin}: rendering the chat template failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

export class BuiltinK2Template implements ChatTemplate {
  readonly origin = "builtin";

  render(input: TemplateInput): string {
    return renderBuiltinK2(input.messages, input.tools !== undefined ? deepSortKeys(input.tools) : undefined, input.addGenerationPrompt);
  }
}

/** Whether `template` renders exactly as the built-in K2 renderer (so it can be rendered message by message). */
export function rendersAsBuiltinK2(template: ChatTemplate): boolean {
  return template instanceof BuiltinK2Template || (template instanceof JinjaChatTemplate && template.matchesBuiltinK2);
}

const cache = new Map<string, ChatTemplate>();

/** The template of a checkpoint or tokenizer directory, cached per directory. */
export function loadChatTemplate(dir: string): ChatTemplate {
  const key = resolve(dir);
  let t = cache.get(key);
  if (t === undefined) {
    t = findTemplate(key);
    cache.set(key, t);
  }
  return t;
}

function findTemplate(dir: string): ChatTemplate {
  const jinjaPath = join(dir, "chat_template.jinja");
  if (existsSync(jinjaPath)) return new JinjaChatTemplate(readFileSync(jinjaPath, "utf8"), jinjaPath);
  const configPath = join(dir, "tokenizer_config.json");
  if (existsSync(configPath)) {
    let config: unknown;
    try {
      config = JSON.parse(readFileSync(configPath, "utf8"));
    } catch (err) {
      throw new CheckpointError(configPath, `invalid JSON: ${(err as Error).message}`, { cause: err });
    }
    const source = (config as { chat_template?: unknown } | null)?.chat_template;
    if (typeof source === "string" && source !== "") return new JinjaChatTemplate(source, `${configPath} (chat_template)`);
  }
  return new BuiltinK2Template();
}
