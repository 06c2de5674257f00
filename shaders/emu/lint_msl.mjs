#!/usr/bin/env node
// Lint of the Metal sources: rejects what Apple's shader compiler would (or what would make the
// CPU harness disagree with a GPU), since neither can be checked on Linux by compiling for Metal.
// usage: node shaders/emu/lint_msl.mjs [SHADER_DIR]   (default: the shaders/ next to this file)
// Checks every .metal and .h under SHADER_DIR except emu/ itself (selftest kernels included):
//   - no std::, host #includes (only <metal_stdlib> and files of SHADER_DIR), double, new/delete,
//     exceptions, virtual, goto, function pointers, static/thread_local storage, printf/malloc;
//   - no recursion (direct or mutual); helpers are `inline` (one definition across files);
//   - `threadgroup` only declares arrays (the harness maps it to per-threadgroup storage);
//   - kernels end with the harness's fixed position tail and bind buffer(i) to parameter i;
//   - every kernel is registered with the harness (emu/kernels_<file>.cpp or kernels_selftest.cpp);
//   - each .metal compiles as C++14 against the harness's metal_stdlib (MSL is C++14-based).
// Prints file:line: problem lines; exit 1 when there are any.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.argv[2] ?? join(here, ".."));
const emuDir = join(root, "emu");
const problems = [];
const report = (file, line, msg) => problems.push(`${relative(process.cwd(), file)}:${line}: ${msg}`);

const TAIL = [
  "uint3 tgpig [[threadgroup_position_in_grid]]",
  "ushort tiitg [[thread_index_in_threadgroup]]",
  "ushort3 ntg [[threads_per_threadgroup]]",
  "ushort sgitg [[simdgroup_index_in_threadgroup]]",
  "ushort tiisg [[thread_index_in_simdgroup]]",
];

function walk(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p === emuDir) {
        const st = join(p, "selftest");
        if (existsSync(st)) walk(st, out);
        continue;
      }
      walk(p, out);
    } else if (name.endsWith(".metal") || name.endsWith(".h")) out.push(p);
  }
  return out;
}

// Blanks comments and string literals, keeping line structure and offsets.
function strip(src) {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, " "))
    .replace(/\/\/[^\n]*/g, (m) => " ".repeat(m.length))
    .replace(/"(?:[^"\\\n]|\\.)*"/g, (m) => (m.startsWith('"') ? '"' + " ".repeat(m.length - 2) + '"' : m));
}
const lineAt = (src, idx) => src.slice(0, idx).split("\n").length;

function matchBrace(src, open) {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === "{") depth++;
    else if (src[i] === "}" && --depth === 0) return i;
  }
  return src.length;
}

function splitTopLevel(s) {
  const parts = [];
  let depth = 0, cur = "";
  for (const ch of s) {
    if ("([<".includes(ch)) depth++;
    if (")]>".includes(ch)) depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map((p) => p.replace(/\s+/g, " ").trim());
}

const FORBIDDEN = [
  [/\bstd::/, "std:: is not available in Metal"],
  [/\bdouble\b/, "double is not supported by Metal GPUs"],
  [/\bnew\b/, "dynamic allocation (new) is not allowed in MSL"],
  [/\bdelete\b/, "delete is not allowed in MSL"],
  [/\b(throw|try|catch)\b/, "exceptions are not supported in MSL"],
  [/\bvirtual\b/, "virtual functions are not supported in MSL"],
  [/\bgoto\b/, "goto is not supported in MSL"],
  [/\b(static|thread_local)\b/, "static/thread_local storage is not allowed in MSL (use threadgroup or constant)"],
  [/\b(printf|malloc|free|memcpy|memset)\s*\(/, "host library calls are not available in MSL"],
  [/\(\s*\*\s*\w+\s*\)\s*\(/, "function pointers are not supported in MSL"],
  [/\b(dynamic_cast|typeid)\b/, "RTTI is not supported in MSL"],
];

const functions = new Map(); // name -> {file, line, body}
const kernelsByFile = new Map();

for (const file of walk(root)) {
  const raw = readFileSync(file, "utf8");
  const src = strip(raw);
  const rawLines = raw.split("\n");
  src.split("\n").forEach((l, i) => {
    for (const [re, msg] of FORBIDDEN) if (re.test(l)) report(file, i + 1, msg);
    // Include names are string literals, blanked in src: read them from the raw line.
    const inc = /^\s*#\s*include/.test(l) && rawLines[i].match(/^\s*#\s*include\s*([<"])([^>"]*)[>"]/);
    if (inc) {
      if (inc[1] === "<" && inc[2] !== "metal_stdlib") report(file, i + 1, `host include <${inc[2]}>: only <metal_stdlib> exists in Metal`);
      if (inc[1] === '"' && !existsSync(join(dirname(file), inc[2]))) report(file, i + 1, `include "${inc[2]}" is not a file of the shader sources`);
    }
  });
  for (const m of src.matchAll(/\bthreadgroup\b(?!_barrier)/g)) {
    const rest = src.slice(m.index, m.index + 200);
    if (!/^threadgroup\s+[A-Za-z_]\w*\s+[A-Za-z_]\w*\s*\[[^\]]+\]\s*;/.test(rest))
      report(file, lineAt(src, m.index), "threadgroup may only declare an array (`threadgroup float name[N];`)");
  }
  // Function definitions: a name followed by a parameter list and a body.
  const defRe = /(^|\n)([ \t]*)((?:template\s*<[^>]*>\s*)?(?:(inline|kernel)\s+)?[A-Za-z_][\w:<>]*(?:\s*[*&])?\s+)([A-Za-z_]\w*)\s*\(([^;{}]*)\)\s*\{/g;
  for (const m of src.matchAll(defRe)) {
    const name = m[5];
    if (["if", "for", "while", "switch", "return"].includes(name)) continue;
    const bodyStart = m.index + m[0].length - 1;
    const body = src.slice(bodyStart, matchBrace(src, bodyStart) + 1);
    const line = lineAt(src, m.index + m[1].length);
    functions.set(name, { file, line, body });
    const isKernel = /\bkernel\s/.test(m[3]);
    if (!isKernel && !/\binline\b/.test(m[3]) && m[2] === "") report(file, line, `helper ${name}() must be inline (one definition across kernels)`);
    if (isKernel) {
      if (!file.endsWith(".metal")) report(file, line, `kernel ${name} must live in a .metal file`);
      const params = splitTopLevel(m[6]);
      const nb = params.length - TAIL.length;
      const tail = params.slice(nb);
      if (nb < 0 || tail.join("|") !== TAIL.join("|"))
        report(file, line, `kernel ${name} must end with the position parameters: ${TAIL.join(", ")}`);
      params.slice(0, Math.max(0, nb)).forEach((p, i) => {
        if (!p.includes(`[[buffer(${i})]]`)) report(file, line, `kernel ${name}: parameter ${i} ("${p}") must be bound at [[buffer(${i})]]`);
      });
      if (!kernelsByFile.has(file)) kernelsByFile.set(file, []);
      kernelsByFile.get(file).push({ name, line });
    }
  }
}

// Recursion: cycles in the call graph of the functions defined in the sources.
const calls = new Map();
for (const [name, f] of functions) {
  const callees = new Set();
  for (const m of f.body.matchAll(/\b([A-Za-z_]\w*)\s*(?:<[^<>;]*>)?\s*\(/g)) if (functions.has(m[1])) callees.add(m[1]);
  calls.set(name, callees);
}
const state = new Map();
function visit(name, stack) {
  if (state.get(name) === "done") return;
  if (state.get(name) === "open") {
    const cycle = stack.slice(stack.indexOf(name)).concat(name);
    const f = functions.get(name);
    report(f.file, f.line, `recursion is not supported in MSL: ${cycle.join(" -> ")}`);
    return;
  }
  state.set(name, "open");
  for (const c of calls.get(name) ?? []) visit(c, stack.concat(name));
  state.set(name, "done");
}
for (const name of functions.keys()) visit(name, []);

// Registration with the harness and C++14 compilation.
let cxx = null;
for (const c of ["c++", "g++", "clang++"]) {
  try {
    execFileSync(c, ["--version"], { stdio: "ignore" });
    cxx = c;
    break;
  } catch {
    // try the next compiler
  }
}
for (const [file, kernels] of kernelsByFile) {
  const inSelftest = dirname(file) === join(emuDir, "selftest");
  const wrapper = join(emuDir, inSelftest ? "kernels_selftest.cpp" : `kernels_${basename(file, ".metal")}.cpp`);
  const text = existsSync(wrapper) ? readFileSync(wrapper, "utf8") : "";
  for (const k of kernels)
    if (!text.includes(`K2_EMU_KERNEL(${k.name})`)) report(file, k.line, `kernel ${k.name} is not registered in ${relative(process.cwd(), wrapper)}`);
}
if (cxx) {
  for (const file of walk(root).filter((f) => f.endsWith(".metal"))) {
    try {
      execFileSync(cxx, ["-std=c++14", "-fsyntax-only", "-Werror", "-Wall", "-Wno-unused-parameter", "-Wno-unused-variable", "-x", "c++",
        "-I", join(here, "include"), file], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      report(file, 1, `does not compile as C++14 against the harness's metal_stdlib:\n${String(e.stderr ?? e.message).trim()}`);
    }
  }
} else {
  problems.push("lint_msl: no C++ compiler found; the C++14 compile check was skipped");
}

for (const p of problems) console.log(p);
console.log(problems.length ? `lint_msl: ${problems.length} problem(s)` : `lint_msl: ${walk(root).length} files OK`);
process.exit(problems.length ? 1 : 0);
