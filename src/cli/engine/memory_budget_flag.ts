// --memory-budget as given on the command line: bytes ("68719476736"), a size with a binary unit
// ("64G", "512M", "1.5T", "64GiB") or a share of physical memory ("40%"). Bad values are a
// UsageError naming the flag (exit 2).
import { totalmem } from "node:os";
import { UsageError } from "../../errors.js";

const UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

export function parseMemoryBudget(flag: string, value: string | undefined, physicalBytes = totalmem()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p <= 100)) throw new UsageError(`${flag}: a percentage of RAM must be in (0, 100], got "${value}"`);
    return Math.floor((physicalBytes * p) / 100);
  }
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/.exec(v);
  if (!m) throw new UsageError(`${flag}: expected bytes, a size like 64G or 512M, or a percentage of RAM like 40%; got "${value}"`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!]!);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`${flag}: must be a positive size, got "${value}"`);
  return bytes;
}
