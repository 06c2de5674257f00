// A dependency-free SVG line chart: side-by-side panels sharing an x axis, one line per series,
// for `k2 simulate --plot` (hit rate and tok/s against memory size per policy).
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

export interface Panel {
  title: string;
  yLabel: string;
  /** Formats a y tick value. */
  yFormat: (v: number) => string;
  yMin?: number;
  yMax?: number;
  series: Series[];
}

export interface Chart {
  title: string;
  subtitle: string;
  xLabel: string;
  xTicks: number[];
  panels: Panel[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Round step (1, 2 or 5 x 10^n) giving about `n` intervals over [lo, hi]. */
function niceStep(lo: number, hi: number, n: number): number {
  const raw = (hi - lo) / n || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

export function lineChartSvg(c: Chart): string {
  const panelW = 460, panelH = 300, left = 64, top = 70, gap = 80, bottom = 90;
  const width = left + c.panels.length * panelW + (c.panels.length - 1) * gap + 30;
  const height = top + panelH + bottom;
  const xMin = Math.min(...c.xTicks), xMax = Math.max(...c.xTicks);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(c.title)}</text>`,
    `<text x="${left}" y="44" fill="#555">${esc(c.subtitle)}</text>`,
  ];
  c.panels.forEach((p, i) => {
    const x0 = left + i * (panelW + gap);
    const ys = p.series.flatMap((s) => s.points.map(([, y]) => y));
    const yLo = p.yMin ?? Math.min(0, ...ys);
    let yHi = p.yMax ?? Math.max(...ys, yLo + 1e-9);
    const step = niceStep(yLo, yHi, 5);
    if (p.yMax === undefined) yHi = Math.ceil(yHi / step) * step;
    const sx = (x: number) => x0 + ((x - xMin) / (xMax - xMin || 1)) * panelW;
    const sy = (y: number) => top + panelH - ((y - yLo) / (yHi - yLo || 1)) * panelH;
    out.push(`<text x="${x0}" y="${top - 10}" font-weight="bold">${esc(p.title)}</text>`);
    for (let y = yLo; y <= yHi + step / 1e6; y += step) {
      out.push(`<line x1="${x0}" y1="${sy(y).toFixed(1)}" x2="${x0 + panelW}" y2="${sy(y).toFixed(1)}" stroke="#e3e3e3"/>`);
      out.push(`<text x="${x0 - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end" fill="#444">${esc(p.yFormat(y))}</text>`);
    }
    for (const x of c.xTicks) {
      out.push(`<line x1="${sx(x).toFixed(1)}" y1="${top}" x2="${sx(x).toFixed(1)}" y2="${top + panelH}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${sx(x).toFixed(1)}" y="${top + panelH + 18}" text-anchor="middle" fill="#444">${x}</text>`);
    }
    out.push(`<rect x="${x0}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#888"/>`);
    out.push(`<text x="${x0 + panelW / 2}" y="${top + panelH + 40}" text-anchor="middle">${esc(c.xLabel)}</text>`);
    out.push(
      `<text transform="translate(${x0 - 48} ${top + panelH / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`,
    );
    for (const s of p.series) {
      const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
      out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
      for (const [x, y] of s.points) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
  });
  const series = c.panels[0]?.series ?? [];
  series.forEach((s, i) => {
    const lx = left + i * 150, ly = height - 22;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
