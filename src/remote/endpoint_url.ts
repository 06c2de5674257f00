// Normalizes what a user passes as --endpoint into the API base URL (…/v1). People paste the
// server root (`http://gpu-box:8000`), the base (`https://api.moonshot.ai/v1`) or the full
// completions URL; all three mean the same server.
import { UsageError } from "../errors.js";

export function normalizeEndpoint(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new UsageError(`--endpoint: "${input}" is not a URL (expected e.g. http://127.0.0.1:8000/v1)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--endpoint: expected an http:// or https:// URL, got "${input}"`);
  }
  let path = url.pathname.replace(/\/+$/, "");
  path = path.replace(/\/chat\/completions$/, "");
  if (path === "") path = "/v1";
  url.pathname = path;
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}
