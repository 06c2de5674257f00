#!/usr/bin/env node
// Puts Apple's metal-cpp headers (the C++ interface to Metal) in build/metal-cpp, where
// binding.gyp looks for them on macOS. Never needed elsewhere: on Linux this exits at once.
//   K2_METAL_CPP_DIR=/path/to/metal-cpp   use an unpacked copy (offline installs)
//   otherwise                              download the pinned release and verify its checksum
// The pin is Apple's metal-cpp for macOS 14.2 / iOS 17.2; its SHA-512 is the one vcpkg's
// metal-cpp port pins for the same archive.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const URL_ = "https://developer.apple.com/metal/cpp/files/metal-cpp_macOS14.2_iOS17.2.zip";
const SHA512 =
  "5d1152cda3a3b1284854f352b0e56c27c19491aa614de28db385d69e99d8b88a0186d31b373ef6db74d06dbabecf2ef8ce83a8e2d99f4bcb846ff7d58698629c";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dest = join(root, "build", "metal-cpp");
const fail = (msg) => {
  console.error(`fetch_metal_cpp: ${msg}`);
  process.exit(1);
};

if (process.platform !== "darwin") {
  console.log("fetch_metal_cpp: not macOS, metal-cpp is not needed");
  process.exit(0);
}
if (existsSync(join(dest, "Metal", "Metal.hpp"))) process.exit(0);

const local = process.env.K2_METAL_CPP_DIR;
if (local) {
  if (!existsSync(join(local, "Metal", "Metal.hpp"))) fail(`K2_METAL_CPP_DIR=${local} has no Metal/Metal.hpp`);
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(local, dest, { recursive: true });
  console.log(`fetch_metal_cpp: copied ${local} -> ${dest}`);
  process.exit(0);
}

let res;
try {
  res = await fetch(URL_);
} catch (e) {
  fail(`cannot download ${URL_} (${e.message}); set K2_METAL_CPP_DIR to an unpacked metal-cpp to build offline`);
}
if (!res.ok) fail(`downloading ${URL_}: HTTP ${res.status}`);
const zip = Buffer.from(await res.arrayBuffer());
const got = createHash("sha512").update(zip).digest("hex");
if (got !== SHA512) fail(`${URL_}: checksum mismatch (sha512 ${got}, pinned ${SHA512})`);
const tmp = mkdtempSync(join(tmpdir(), "k2-metal-cpp-"));
try {
  writeFileSync(join(tmp, "metal-cpp.zip"), zip);
  execFileSync("unzip", ["-q", join(tmp, "metal-cpp.zip"), "-d", tmp]);
  if (!existsSync(join(tmp, "metal-cpp", "Metal", "Metal.hpp"))) fail("the archive has no metal-cpp/Metal/Metal.hpp");
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(join(tmp, "metal-cpp"), dest, { recursive: true });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`fetch_metal_cpp: metal-cpp (macOS 14.2) -> ${dest}`);
