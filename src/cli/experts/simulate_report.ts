// k2 simulate's text output: what was modelled, then one row per machine and policy.
import type { ModelCostShape } from "./model_cost_shape.js";
import type { SimulateReport } from "./simulate.js";

const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;

export function describeModel(shape: ModelCostShape): string {
  const r = shape.route;
  return (
    `${shape.name}: ${r.moeLayers.length} MoE layers of ${r.nLayers} x ${r.nExperts} experts, top-${r.topK} · ` +
    `expert ${(shape.expertBytes / 1e6).toFixed(2)} MB · dense ${gb(shape.denseResidentBytes)} resident, ` +
    `${gb(shape.denseReadBytesPerToken)} read per token · KV ${(shape.kvBytesPerToken / 1e3).toFixed(1)} KB per token`
  );
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd()).join("\n");
}

export function formatReport(
  shape: ModelCostShape,
  traceLine: string,
  report: SimulateReport,
  contextTokens: number,
  budgetFraction: number,
  pinning: { pinFraction: number; repinTokens: number },
): string {
  const head = ["machine", "policy", "budget", "expert slots", "hit rate", "tok/s", "tok/s bound", "SSD ms/token"];
  const rows = [head];
  const notes: string[] = [];
  for (const row of report.rows) {
    const m = `${row.machine.name} (${row.machine.description}, ${row.machine.memGBps}/${row.machine.ssdGBps} GB/s)`;
    const budget = gb(row.machine.memoryGB * 2 ** 30 * budgetFraction);
    if ("doesNotFit" in row.plan || !row.result) {
      rows.push([m, row.policy, budget, "0", "does not fit", "-", "-", "-"]);
      if ("doesNotFit" in row.plan && !notes.includes(`${row.machine.name}: ${row.plan.doesNotFit}`)) notes.push(`${row.machine.name}: ${row.plan.doesNotFit}`);
      continue;
    }
    const slots = `${row.capacity} (${((100 * row.capacity) / row.totalExperts).toFixed(1)}%)`;
    const r = row.result;
    rows.push([m, row.policy, budget, slots, `${(100 * r.hitRate).toFixed(1)}%`, r.tokPerSec.toFixed(2), r.tokPerSecBound.toFixed(2), r.ssdMsPerToken.toFixed(0)]);
  }
  return [
    describeModel(shape),
    `${traceLine}; first ${report.warmup} of ${report.tokens} tokens are warm-up (not counted)`,
    `budget = ${budgetFraction} x memory (GiB); the engine's memory plan: dense weights, a ${contextTokens}-token KV cache and a runtime reserve stay resident, the rest is expert slots`,
    pinning.pinFraction > 0
      ? `pinning: ${pinning.pinFraction} of the slots hold the most requested experts, re-chosen every ${pinning.repinTokens} tokens (as the engine)`
      : "pinning: off",
    "tok/s: compute waits for each miss (memory time + SSD time); bound: reads fully overlapped (max of the two)",
    "",
    table(rows),
    ...notes,
    "",
  ].join("\n");
}
