// The bench:scale curve as a dependency-free SVG: four panels against the number of clusters
// (log scale): throughput, event latency p99, CPU per cluster by process kind, API RSS.
import type { ScaleResult } from './scale.ts';

interface Series {
  label: string;
  color: string;
  values: number[];
}

const W = 330;
const H = 210;
const PAD = { left: 48, right: 12, top: 28, bottom: 34 };

function panel(x0: number, y0: number, title: string, ns: readonly number[], series: readonly Series[]): string {
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const top = Math.max(1e-9, ...all) * 1.15;
  const logMin = Math.log10(Math.min(...ns));
  const logSpan = Math.max(1e-9, Math.log10(Math.max(...ns)) - logMin);
  const px = (n: number): number => x0 + PAD.left + ((Math.log10(n) - logMin) / logSpan) * (W - PAD.left - PAD.right);
  const py = (v: number): number => y0 + H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const parts = [
    `<text x="${x0 + W / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${title}</text>`,
    `<line x1="${x0 + PAD.left}" y1="${py(0)}" x2="${x0 + W - PAD.right}" y2="${py(0)}" stroke="#999"/>`,
    `<line x1="${x0 + PAD.left}" y1="${py(0)}" x2="${x0 + PAD.left}" y2="${y0 + PAD.top}" stroke="#999"/>`,
    `<text x="${x0 + PAD.left - 4}" y="${py(top / 1.15) + 4}" text-anchor="end">${fmt(top / 1.15)}</text>`,
    `<text x="${x0 + PAD.left - 4}" y="${py(0) + 4}" text-anchor="end">0</text>`,
    ...ns.map((n) => `<text x="${px(n)}" y="${py(0) + 16}" text-anchor="middle">${n.toLocaleString('en')}</text>`),
  ];
  series.forEach((s, i) => {
    const pts = ns.map((n, k) => [px(n), py(s.values[k] ?? 0)] as const);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${s.color}"/>`);
    if (series.length > 1) parts.push(`<text x="${x0 + PAD.left + 6}" y="${y0 + PAD.top + 12 + 13 * i}" fill="${s.color}">${s.label}</text>`);
  });
  return parts.join('\n');
}

export function scaleChartSvg(results: readonly ScaleResult[]): string {
  const ns = results.map((r) => r.clusters);
  const panels = [
    panel(0, 0, 'clusters/s to Ready', ns, [{ label: 'clusters/s', color: '#1f77b4', values: results.map((r) => r.perSecond) }]),
    panel(W, 0, 'event latency p99 (ms)', ns, [{ label: 'p99', color: '#d62728', values: results.map((r) => r.latency.p99) }]),
    panel(0, H, 'CPU ms per cluster', ns, [
      { label: 'PostgreSQL', color: '#2ca02c', values: results.map((r) => r.cpuPerCluster.postgres * 1000) },
      { label: 'API replicas', color: '#ff7f0e', values: results.map((r) => r.cpuPerCluster.api * 1000) },
      { label: 'controllers', color: '#9467bd', values: results.map((r) => r.cpuPerCluster.controllers * 1000) },
    ]),
    panel(W, H, 'API RSS, 2 replicas (MB)', ns, [
      { label: 'start', color: '#7f7f7f', values: results.map((r) => r.rssMb.start) },
      { label: 'peak', color: '#8c564b', values: results.map((r) => r.rssMb.peak) },
    ]),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${2 * H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
