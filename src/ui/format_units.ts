// How the TUI and the one-shot printer spell numbers: token counts, rates, sizes, durations.

export function formatCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (n < 1_000_000) return `${Math.round(n / 1000)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatRate(tokPerS: number): string {
  if (!Number.isFinite(tokPerS) || tokPerS <= 0) return "–";
  return tokPerS >= 100 ? tokPerS.toFixed(0) : tokPerS.toFixed(1);
}

/** Decimal units (1 GB = 10^9 bytes), as the engine's messages, `k2 info` and the docs count them. */
export function formatBytes(bytes: number): string {
  const gb = bytes / 1e9;
  if (gb >= 1) return `${gb.toFixed(1)} GB`;
  const mb = bytes / 1e6;
  if (mb >= 1) return `${mb.toFixed(mb >= 100 ? 0 : 1)} MB`;
  return `${Math.round(bytes / 1e3)} KB`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
