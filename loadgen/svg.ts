/**
 * A minimal line-plot renderer producing inline SVG, so report.html needs no script and no network.
 * Each series is one <path class="series" data-points="N">; points can carry circle markers; vertical
 * and horizontal reference lines mark phases, SLOs and knees.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Draw a circle at every point (for sparse series such as steps). */
  readonly markers?: boolean;
  /** Dashed and drawn first, under the others (e.g. max, which often equals p99 at low rates). */
  readonly dashed?: boolean;
}

interface Tick {
  readonly value: number;
  readonly label: string;
}

export interface RefLine {
  readonly at: number;
  readonly label: string;
  readonly color?: string;
}

export interface PlotSpec {
  /** Stable id, also written as data-plot (tests and readers find plots by it). */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Custom x ticks (e.g. a percentile axis); default: nice linear ticks. */
  readonly xTicks?: readonly Tick[];
  readonly vLines?: readonly RefLine[];
  readonly hLines?: readonly RefLine[];
  /** Fixed left end of the x axis (time axes start at 0); default: the smallest x. */
  readonly xMin?: number;
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { left: 64, right: 16, top: 28, bottom: 44 };

/** The plots' own styles: inlined in report.html, and inside each standalone .svg file. */
export const PLOT_CSS = `svg.plot{display:block;margin:8px 0 16px;background:#fff;font-family:system-ui,sans-serif}
svg .frame{fill:none;stroke:#999}svg .grid{stroke:#eee}
svg .tick,svg .legend,svg .reflabel{font-size:11px;fill:#444}svg .label{font-size:12px;fill:#222}
svg .title{font-size:13px;font-weight:600;fill:#222}svg .ref{stroke-dasharray:4 3}svg .empty{fill:#999}`;

/** A plot as a file of its own (for READMEs and issues): the same SVG with its styles and a white background inside. */
export function standaloneSvg(svg: string): string {
  const openEnd = svg.indexOf(">") + 1;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg.slice(0, openEnd)}<style>${PLOT_CSS}</style><rect width="100%" height="100%" fill="#fff"/>${svg.slice(openEnd)}\n`;
}

interface Frame {
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
  readonly xDomain: readonly [number, number];
  readonly yDomain: readonly [number, number];
  readonly width: number;
  readonly height: number;
}

export function renderPlot(spec: PlotSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 300;
  const all = spec.series.flatMap((s) => s.points);
  const head = `<svg class="plot" data-plot="${esc(spec.id)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(spec.title)}">`;
  const title = `<text x="${MARGIN.left}" y="18" class="title">${esc(spec.title)}</text>`;
  if (all.length === 0) {
    return `${head}${title}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="empty">no data</text></svg>`;
  }
  const frame = makeFrame(all, spec, width, height);
  return [
    head,
    title,
    axes(frame, spec),
    ...(spec.vLines ?? []).map((l) => vLine(frame, l)),
    ...(spec.hLines ?? []).map((l) => hLine(frame, l)),
    ...[...spec.series].sort((a, b) => Number(b.dashed ?? false) - Number(a.dashed ?? false)).map((s) => seriesPath(frame, s)),
    legend(spec.series, width),
    "</svg>",
  ].join("\n");
}

function makeFrame(points: ReadonlyArray<readonly [number, number]>, spec: PlotSpec, width: number, height: number): Frame {
  const xs = [...points.map((p) => p[0]), ...(spec.xTicks ?? []).map((t) => t.value), ...(spec.vLines ?? []).map((l) => l.at)];
  const ys = [...points.map((p) => p[1]), ...(spec.hLines ?? []).map((l) => l.at)];
  let xMin = spec.xMin ?? Math.min(...xs);
  let xMax = Math.max(...xs);
  if (xMax === xMin) [xMin, xMax] = [xMin - 1, xMax + 1];
  // Latency and rate axes start at 0 so that a small wobble never looks like a cliff.
  const yMax = niceCeil(Math.max(...ys, 1e-9) * 1.05);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  return {
    x: (v) => MARGIN.left + ((v - xMin) / (xMax - xMin)) * plotW,
    y: (v) => MARGIN.top + plotH - (v / yMax) * plotH,
    xDomain: [xMin, xMax],
    yDomain: [0, yMax],
    width,
    height,
  };
}

function axes(f: Frame, spec: PlotSpec): string {
  const bottom = f.height - MARGIN.bottom;
  const right = f.width - MARGIN.right;
  const xTicks = spec.xTicks ?? niceTicks(f.xDomain[0], f.xDomain[1], 8).map((v) => ({ value: v, label: formatNumber(v) }));
  const yTicks = niceTicks(0, f.yDomain[1], 5).map((v) => ({ value: v, label: formatNumber(v) }));
  const parts = [
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${right - MARGIN.left}" height="${bottom - MARGIN.top}" class="frame"/>`,
    ...xTicks.map((t) => `<line x1="${r(f.x(t.value))}" x2="${r(f.x(t.value))}" y1="${MARGIN.top}" y2="${bottom}" class="grid"/><text x="${r(f.x(t.value))}" y="${bottom + 16}" text-anchor="middle" class="tick">${esc(t.label)}</text>`),
    ...yTicks.map((t) => `<line x1="${MARGIN.left}" x2="${right}" y1="${r(f.y(t.value))}" y2="${r(f.y(t.value))}" class="grid"/><text x="${MARGIN.left - 6}" y="${r(f.y(t.value)) + 4}" text-anchor="end" class="tick">${esc(t.label)}</text>`),
    `<text x="${(MARGIN.left + right) / 2}" y="${f.height - 6}" text-anchor="middle" class="label">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(14 ${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle" class="label">${esc(spec.yLabel)}</text>`,
  ];
  return parts.join("\n");
}

function seriesPath(f: Frame, s: Series): string {
  if (s.points.length === 0) return "";
  const d = s.points.map((p, i) => `${i === 0 ? "M" : "L"}${r(f.x(p[0]))},${r(f.y(p[1]))}`).join(" ");
  const path = `<path class="series" data-series="${esc(s.name)}" data-points="${s.points.length}" d="${d}" stroke="${s.color}" fill="none" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`;
  if (!s.markers && s.points.length > 1) return path;
  const dots = s.points.map((p) => `<circle cx="${r(f.x(p[0]))}" cy="${r(f.y(p[1]))}" r="3.5" fill="${s.color}"/>`);
  return [path, ...dots].join("\n");
}

function vLine(f: Frame, l: RefLine): string {
  const x = r(f.x(l.at));
  return `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${f.height - MARGIN.bottom}" class="ref" stroke="${l.color ?? "#888"}"/><text x="${x + 3}" y="${MARGIN.top + 12}" class="reflabel">${esc(l.label)}</text>`;
}

function hLine(f: Frame, l: RefLine): string {
  const y = r(f.y(l.at));
  return `<line x1="${MARGIN.left}" x2="${f.width - MARGIN.right}" y1="${y}" y2="${y}" class="ref" stroke="${l.color ?? "#888"}"/><text x="${f.width - MARGIN.right - 4}" y="${y - 4}" text-anchor="end" class="reflabel">${esc(l.label)}</text>`;
}

function legend(series: readonly Series[], width: number): string {
  let x = width - MARGIN.right;
  const items: string[] = [];
  for (const s of [...series].reverse()) {
    x -= 12 + s.name.length * 7 + 14;
    items.push(`<rect x="${x}" y="9" width="12" height="4" fill="${s.color}"/><text x="${x + 16}" y="15" class="legend">${esc(s.name)}</text>`);
  }
  return items.join("\n");
}

/** Ticks at 1, 2 or 5 × 10^k covering [min, max] with about `count` steps. */
function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const step = niceStep((max - min) / count);
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

function niceCeil(v: number): number {
  const step = niceStep(v / 5);
  return Math.ceil(v / step) * step;
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return a >= 10 ? v.toFixed(1) : String(Number(v.toFixed(2)));
}

function r(v: number): number {
  return Math.round(v * 10) / 10;
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
