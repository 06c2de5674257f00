// Child processes in tests cannot load TypeScript (Node 20 has no type stripping), so this
// transpiles an entry file and everything it imports relatively into a scratch directory under
// node_modules/.cache (so bare imports like "diff" still resolve) and returns the entry's path.
import { mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const REPO = path.resolve(import.meta.dirname, "../..");

export function transpileForChild(entryRel: string): { entry: string; cleanup: () => void } {
  const outRoot = path.join(REPO, "node_modules", ".cache", `k2-agent-child-${process.pid}-${Date.now()}`);
  const seen = new Set<string>();
  const queue = [path.join(REPO, entryRel)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const m of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)\.js"/g)) {
      queue.push(path.resolve(path.dirname(file), `${m[1]}.ts`));
    }
    const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: file });
    const dest = path.join(outRoot, path.relative(REPO, file)).replace(/\.ts$/, ".js");
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
  writeFileSync(path.join(outRoot, "package.json"), '{"type":"module"}');
  return { entry: path.join(outRoot, entryRel).replace(/\.ts$/, ".js"), cleanup: () => rmSync(outRoot, { recursive: true, force: true }) };
}
