// Vitest global setup. Many tests drive the built CLI in dist/ (made by `npm ci`'s prepare or
// `npm run build:ts`); a dist/ older than the sources would silently test old code, so the run
// stops at once with what to do instead.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = join(ROOT, "dist", "src", "cli", "main.js");
const SOURCE_DIRS = ["src", "bench"]; // tsconfig.json's "include"

function newestSource(dir: string): { path: string; mtimeMs: number } {
  let best = { path: "", mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory()
      ? newestSource(path)
      : /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")
        ? { path, mtimeMs: statSync(path).mtimeMs }
        : best;
    if (candidate.mtimeMs > best.mtimeMs) best = candidate;
  }
  return best;
}

export default function checkBuiltCli(): void {
  const fix = "run `npx tsc -p tsconfig.json` (or `npm run build:ts`) first";
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: ${fix}`);
  const built = statSync(ENTRY).mtimeMs;
  for (const dir of SOURCE_DIRS) {
    const newest = newestSource(join(ROOT, dir));
    // tsc rewrites every output, so the entry point's time is the build's time.
    if (newest.mtimeMs > built) throw new Error(`dist/ is older than ${newest.path.slice(ROOT.length)}: ${fix}`);
  }
}
