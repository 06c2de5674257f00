// Conversation → prompt ids, safely: the template's markup becomes special tokens, content never
// does. The result equals encoding the rendered string with all specials allowed whenever the
// content holds no special-token text (the text between markup specials is encoded as one piece,
// exactly as tiktoken would), and keeps special-token text inside content as ordinary tokens.
import type { ChatTemplate, TemplateInput } from "./chat_template.js";
import { ContentEscaper } from "./content_escape.js";
import type { K2Tokenizer, PromptSegment } from "./tokenizer.js";

const escapers = new WeakMap<K2Tokenizer, ContentEscaper>();

export function escaperFor(tokenizer: K2Tokenizer): ContentEscaper {
  let e = escapers.get(tokenizer);
  if (e === undefined) {
    const names: string[] = [];
    for (let id = tokenizer.baseVocabSize; id < tokenizer.vocabSize; id++) names.push(tokenizer.specialName(id)!);
    e = new ContentEscaper(names);
    escapers.set(tokenizer, e);
  }
  return e;
}

/** The prompt as ordered segments: ordinary text, and the template's special tokens. */
export function renderPromptSegments(tokenizer: K2Tokenizer, template: ChatTemplate, input: TemplateInput): PromptSegment[] {
  const escaper = escaperFor(tokenizer);
  const rendered = template.render({
    messages: escaper.escapeDeep(input.messages),
    tools: input.tools !== undefined ? escaper.escapeDeep(input.tools) : undefined,
    addGenerationPrompt: input.addGenerationPrompt,
  });
  return tokenizer.splitSpecials(rendered).map((seg) => ("text" in seg ? { text: escaper.unescape(seg.text) } : seg));
}

/** The prompt ids for a conversation (markup specials allowed, content encoded as plain text). */
export function encodePrompt(tokenizer: K2Tokenizer, template: ChatTemplate, input: TemplateInput): number[] {
  return tokenizer.encodeSegments(renderPromptSegments(tokenizer, template, input));
}
