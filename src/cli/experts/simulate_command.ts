// k2 simulate: expected expert-cache hit rate and decode tok/s of a model on Macs of several
// memory sizes, per eviction policy, from a recorded or synthetic routing trace.
import { writeFileSync } from "node:fs";
import { K2Error } from "../../errors.js";
import { writeStdout } from "../engine/stdout.js";
import { checkpointCostShape, kimiK2CostShape } from "./model_cost_shape.js";
import { simulate, type SimulateReport } from "./simulate.js";
import { customMachine, parseSimulateFlags, routeSource, type SimulateFlags } from "./simulate_flags.js";
import { formatReport } from "./simulate_report.js";
import { expertSimAddon, type PolicyName } from "./sim_addon.js";
import { lineChartSvg } from "./svg_plot.js";

/** Memory sizes the plot sweeps (GB). */
export const PLOT_MEMORY_GB = [64, 96, 128, 160, 192, 256, 320, 384, 448, 512];
const POLICY_COLORS: Record<PolicyName, string> = { lru: "#1f77b4", lfu: "#d62728", mix: "#2ca02c" };

export async function runSimulateCommand(flags: SimulateFlags): Promise<void> {
  const p = parseSimulateFlags(flags);
  const shape = flags.model !== undefined ? await checkpointCostShape(flags.model) : kimiK2CostShape();
  const source = routeSource(flags, p, shape);
  if (flags.saveTrace !== undefined) {
    try {
      expertSimAddon().writeRouteTrace(flags.saveTrace, source);
    } catch (err) {
      throw new K2Error(`--save-trace: ${(err as Error).message}`, { cause: err });
    }
  }
  const common = { shape, source, policies: p.policies, params: p.params, pinning: p.pinning, budgetFraction: p.budgetFraction, contextTokens: p.contextTokens, warmup: p.warmup };
  const report = simulate({ ...common, machines: p.machines });
  const s = p.synthetic;
  const traceLine =
    "trace" in source ? `trace ${source.trace}` : `synthetic trace: ${s.tokens} tokens, zipf ${s.zipf}, reuse ${s.reuse}, seed ${s.seed}`;
  if (flags.plot !== undefined) {
    const sweep = simulate({ ...common, machines: PLOT_MEMORY_GB.map((gb) => customMachine(gb, p.memGBps, p.ssdGBps)) });
    writePlot(flags.plot, sweep, p.policies, `${shape.name}, ${traceLine}; ${p.memGBps} GB/s memory, ${p.ssdGBps} GB/s SSD, budget ${p.budgetFraction} x memory, ${p.contextTokens}-token KV, pinned ${p.pinning.pinFraction}`);
  }
  if (flags.json) {
    const { loadPlan: _tensors, ...model } = shape;
    await writeStdout(JSON.stringify({ model, trace: traceLine, budgetFraction: p.budgetFraction, pinning: p.pinning, contextTokens: p.contextTokens, ...report }, null, 2) + "\n");
    return;
  }
  await writeStdout(formatReport(shape, traceLine, report, p.contextTokens, p.budgetFraction, p.pinning));
}

function writePlot(path: string, sweep: SimulateReport, policies: PolicyName[], subtitle: string): void {
  const series = (value: (r: NonNullable<SimulateReport["rows"][number]["result"]>) => number) =>
    policies.map((policy) => ({
      name: policy,
      color: POLICY_COLORS[policy],
      points: sweep.rows.filter((r) => r.policy === policy && r.result).map((r) => [r.machine.memoryGB, value(r.result!)] as [number, number]),
    }));
  const svg = lineChartSvg({
    title: "Expert cache: hit rate and decode speed against memory size",
    subtitle,
    xLabel: "memory (GB)",
    xTicks: PLOT_MEMORY_GB,
    panels: [
      { title: "hit rate (steady state)", yLabel: "hit rate", yFormat: (v) => `${Math.round(v * 100)}%`, yMin: 0, yMax: 1, series: series((r) => r.hitRate) },
      { title: "decode tok/s (demand loading)", yLabel: "tokens / s", yFormat: (v) => v.toFixed(1), series: series((r) => r.tokPerSec) },
    ],
  });
  try {
    writeFileSync(path, svg);
  } catch (err) {
    throw new K2Error(`--plot: cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}
