// Minimal SVG charts (lines or points, linear or log-y axes with ticks): training curves and, later,
// PSNR-vs-latency plots, with no plotting dependency.
export interface Series {
  label: string;
  points: [number, number][];
  style: 'line' | 'points';
  color: string;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const step0 = 10 ** Math.floor(Math.log10(span / 5));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/** 1-2-5 values of each decade inside [lo, hi] (a log axis reads best at round values), else linear ticks. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= lo && v <= hi) out.push(v);
    }
  return out.length >= 2 ? out : ticks(lo, hi);
}

export function svgPlot(series: Series[], o: PlotOptions): string {
  const W = o.width ?? 720;
  const H = o.height ?? 420;
  const m = { l: 70, r: 20, t: 40, b: 50 };
  const fy = (y: number) => (o.logY ? Math.log10(y) : y);
  const pts = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(fy(y)));
  if (pts.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="30">${esc(o.title)}: no data</text></svg>\n`;
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => fy(y));
  const xpad = (Math.max(...xs) - Math.min(...xs)) * 0.05 || 1;
  // Lines (curves over steps) start at their first point; point clouds get room on both sides.
  const lineOnly = series.every((s) => s.style === 'line');
  const [x0, x1] = lineOnly ? [Math.min(...xs), Math.max(...xs)] : [Math.min(...xs) - xpad, Math.max(...xs) + xpad];
  const pad = (Math.max(...ys) - Math.min(...ys)) * 0.05 || 1;
  const [y0, y1] = [Math.min(...ys) - pad, Math.max(...ys) + pad];
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((fy(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  ];
  for (const t of ticks(x0, x1)) parts.push(`<text x="${px(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  for (const v of o.logY ? logTicks(10 ** y0, 10 ** y1) : ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" y1="${py(v)}" x2="${W - m.r}" y2="${py(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(v) + 4}" text-anchor="end">${Number(v.toPrecision(4))}</text>`);
  }
  series.forEach((s, i) => {
    const ok = s.points.filter(([, y]) => Number.isFinite(fy(y)));
    if (s.style === 'line') parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${ok.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    else for (const [x, y] of ok) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="${s.color}"/>`);
    parts.push(`<text x="${W - m.r - 8}" y="${m.t + 16 * (i + 1)}" text-anchor="end" fill="${s.color}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>\n');
  return parts.join('\n');
}
