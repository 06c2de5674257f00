// Identifiers and timestamps shared by the streaming and non-streaming response shapes.
import { randomBytes } from "node:crypto";

export interface CompletionHeader {
  id: string;
  created: number;
  model: string;
}

export function newCompletionHeader(model: string): CompletionHeader {
  return { id: `chatcmpl-${randomBytes(12).toString("hex")}`, created: Math.floor(Date.now() / 1000), model };
}
