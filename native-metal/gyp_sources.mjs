// Prints the engine's C++ sources for binding.gyp, one per line, relative to the package root.
// Everything under native-metal/ and the MSL-on-CPU harness in shaders/emu/ is portable and
// always built; native-metal/backend/metal/ holds the metal-cpp dispatcher and is built only on
// macOS (it needs Apple's frameworks).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..");
const isMac = process.platform === "darwin";
const out = [];
function walk(dir) {
  if (!existsSync(dir)) return; // a fresh clone has only the directories that hold tracked files
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!isMac && p.endsWith(join("backend", "metal"))) continue;
      walk(p);
    } else if (name.endsWith(".cpp") || (isMac && name.endsWith(".mm"))) {
      out.push(relative(root, p).split(sep).join("/"));
    }
  }
}
walk(join(root, "native-metal"));
walk(join(root, "shaders", "emu"));
process.stdout.write(out.join("\n") + "\n");
