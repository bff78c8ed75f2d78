// The figure for slides, drawn from the data rather than copied from the page's charts: every text,
// axis, line and end label is placed here, on the slide's own pixel scale, so that nothing overlaps,
// nothing leaves the frame and every size is a projector's (text ≥ 24 px, lines ≥ 4 px, the charts
// ≥ 80% of the frame). Pure (no DOM): it returns the SVG and the box of every text it placed, which
// the unit test checks, and the e2e checks again with the browser's own text metrics (getBBox).
//
// Text widths are estimated from the characters (Han and full-width forms 1 em, capitals and digits
// about 0.7 em, lower case 0.6 em, narrow marks 0.35 em), on the wide side of common sans-serif fonts
// (DejaVu Sans, Noto Sans CJK), so a box measured by a browser is no wider than the one laid out.
import { FONT_STACK as FONT } from '../fonts';

export const SLIDE_SIZES = { '16:9': { width: 1920, height: 1080 }, '4:3': { width: 1440, height: 1080 } } as const;
export type SlideAspect = keyof typeof SLIDE_SIZES;

const SLIDE_TYPE = { title: 44, text: 28, small: 24 } as const;
const SLIDE_LINE = 5;

interface SlidePoint {
  x: number;
  y: number;
}

export interface SlideLine {
  points: SlidePoint[];
  color: string;
  /** SVG dash array at the slide's line width, or none for a solid line. */
  dash?: string;
  /** The name drawn where the line ends. */
  endLabel?: string;
  /** A shorter name, used when the full one would take more than the room end labels get. */
  shortLabel?: string;
  /** Dots at the points, each its own colour (the depth summary's depths). */
  dots?: string[];
  /** Thinner and lighter (a test-error line beside its training line). */
  secondary?: boolean;
}

/** A loss surface on the slide: its cells' colours, its contour lines, and what is written under it. */
interface SlideMap {
  label: string;
  note: string;
  /** Each grid cell's colour, row 0 at the bottom (the first direction across, the second up). */
  cells: string[][];
  /** The contour lines as SVG paths in a `size`-pixel square. */
  contours(size: number): string[];
}

export interface SlidePanel {
  title: string;
  /** 'iterations': x is the iteration, from 0; 'depths': x is a depth, placed evenly in order; 'landscape': maps. */
  kind: 'iterations' | 'depths' | 'landscape';
  xLabel: string;
  lines: SlideLine[];
  /** The x range's end (iterations) or the depths in order. */
  xMax?: number;
  depths?: number[];
  /** 'landscape': the surfaces side by side, on one colour scale, and a line under them. */
  maps?: SlideMap[];
  caption?: string;
}

interface SlideSpec {
  aspect: SlideAspect;
  title: string;
  /** The verdict in one line (cut with an ellipsis if longer), and its mark. */
  verdict: { text: string; mark: 'holds' | 'fails' | 'none' };
  panels: SlidePanel[];
  /** The settings (and the curves' key), on one line at the bottom. */
  settings: string;
  /** The y axis's upper end, in % (shared by the panels). */
  yMax: number;
}

export interface TextBox {
  text: string;
  x: number;
  y: number;
  w: number;
  h: number;
  size: number;
}

export interface SlideResult {
  svg: string;
  width: number;
  height: number;
  texts: TextBox[];
  /** The panels' union, axes and end labels included. */
  chart: { x: number; y: number; w: number; h: number };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The estimated advance of one character, in em. */
function charEm(c: string): number {
  const code = c.codePointAt(0)!;
  if (code >= 0x2e80 || c === '—') return 1;
  if (c === '–') return 0.6;
  if (" .,:;!|'()[]ilI".includes(c)) return 0.36;
  if ('ftjr-'.includes(c)) return 0.45;
  if (/[A-Z0-9%×−✓✗]/.test(c)) return 0.74;
  return 0.62;
}

/** Estimated width of a text at a font size (bold is wider). */
export function textWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const c of text) em += charEm(c);
  return em * size * (bold ? 1.08 : 1);
}

/** Cut a text to fit a width, with an ellipsis. */
export function fitText(text: string, size: number, max: number, bold = false): string {
  if (textWidth(text, size, bold) <= max) return text;
  const chars = [...text];
  while (chars.length > 1 && textWidth(`${chars.join('')}…`, size, bold) > max) chars.pop();
  return `${chars.join('').trimEnd()}…`;
}

/** Nice tick steps for an axis from 0 to max, about `count` of them. */
function ticks(max: number, count: number): number[] {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Math.round(v * 1000) / 1000);
  return out;
}

/** Spread labels that want the same height: each at least `gap` from the next, inside [top, bottom]. */
export function spreadLabels(wanted: number[], gap: number, top: number, bottom: number): number[] {
  const order = wanted.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  const ys = order.map((o) => Math.min(Math.max(o.y, top), bottom));
  for (let k = 1; k < ys.length; k++) ys[k] = Math.max(ys[k], ys[k - 1] + gap);
  if (ys.length && ys[ys.length - 1] > bottom) {
    ys[ys.length - 1] = bottom;
    for (let k = ys.length - 2; k >= 0; k--) ys[k] = Math.min(ys[k], ys[k + 1] - gap);
  }
  const out = new Array<number>(wanted.length);
  order.forEach((o, k) => (out[o.i] = ys[k]));
  return out;
}

class Canvas {
  parts: string[] = [];
  texts: TextBox[] = [];
  /** A text with its baseline at y; anchor 'start' | 'middle' | 'end'. Its box spans the font's ascent and descent. */
  text(
    s: string,
    x: number,
    y: number,
    size: number,
    opts: { anchor?: 'start' | 'middle' | 'end'; bold?: boolean; fill?: string; rotate?: boolean } = {},
  ): void {
    const w = textWidth(s, size, opts.bold);
    const anchor = opts.anchor ?? 'start';
    const left = anchor === 'start' ? x : anchor === 'middle' ? x - w / 2 : x - w;
    this.texts.push({ text: s, x: left, y: y - 0.92 * size, w, h: 1.18 * size, size });
    this.parts.push(
      `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}"${opts.bold ? ' font-weight="700"' : ''}${anchor !== 'start' ? ` text-anchor="${anchor}"` : ''} fill="${opts.fill ?? '#111'}">${esc(s)}</text>`,
    );
  }
}

/** One panel in the box (x, y, w, h): its title, axes, lines and end labels. */
function drawPanel(c: Canvas, p: SlidePanel, box: { x: number; y: number; w: number; h: number }, yMax: number): void {
  const S = SLIDE_TYPE.small;
  c.text(fitText(p.title, SLIDE_TYPE.text, box.w, true), box.x + box.w / 2, box.y + SLIDE_TYPE.text, SLIDE_TYPE.text, { anchor: 'middle', bold: true });
  const yTicks = ticks(yMax, yMax > 50 ? 5 : 4).filter((v) => v <= yMax);
  const tickText = (v: number) => `${v}%`;
  const left = Math.max(...yTicks.map((v) => textWidth(tickText(v), S))) + 14;
  // end labels: as much room as the longest needs, at most 40% of the panel
  const cap = 0.4 * box.w;
  const nameOf = (l: SlideLine) => (l.endLabel && l.shortLabel && textWidth(l.endLabel, S, true) + 14 > cap ? l.shortLabel : l.endLabel);
  const labelRoom = Math.min(cap, Math.max(0, ...p.lines.map((l) => (nameOf(l) ? textWidth(nameOf(l)!, S, true) + 14 : 0))));
  const plot = { x: box.x + left, y: box.y + SLIDE_TYPE.text + 22, w: box.w - left - labelRoom - 8, h: 0 };
  plot.h = box.y + box.h - plot.y - (S * 1.2 + 8) * 2 - 4;
  const ys = (v: number) => plot.y + plot.h * (1 - Math.min(v, yMax) / yMax);
  const depths = p.depths ?? [];
  const xs =
    p.kind === 'depths'
      ? (v: number) => {
          const i = depths.indexOf(v);
          return plot.x + (depths.length > 1 ? plot.w * (0.08 + (0.84 * i) / (depths.length - 1)) : plot.w / 2);
        }
      : (v: number) => plot.x + (plot.w * v) / Math.max(1, p.xMax ?? 1);
  // grid and axes
  for (const v of yTicks) {
    c.parts.push(
      `<line x1="${plot.x}" y1="${ys(v).toFixed(1)}" x2="${(plot.x + plot.w).toFixed(1)}" y2="${ys(v).toFixed(1)}" stroke="${v === 0 ? '#555' : '#dde1e6'}" stroke-width="${v === 0 ? 2 : 1.5}"/>`,
    );
    c.text(tickText(v), plot.x - 10, ys(v) + 0.35 * S, S, { anchor: 'end', fill: '#333' });
  }
  c.parts.push(`<line x1="${plot.x}" y1="${plot.y}" x2="${plot.x}" y2="${(plot.y + plot.h).toFixed(1)}" stroke="#555" stroke-width="2"/>`);
  const xTicks = p.kind === 'depths' ? depths : ticks(p.xMax ?? 1, plot.w > 500 ? 4 : 3).filter((v) => v <= (p.xMax ?? 1));
  const tickY = plot.y + plot.h + S * 1.05 + 6;
  let lastRight = -Infinity;
  for (const v of xTicks) {
    const s = v.toLocaleString('en');
    const w = textWidth(s, S);
    const cx = Math.min(xs(v), plot.x + plot.w + labelRoom - w / 2);
    if (cx - w / 2 < lastRight + 12) continue; // never two tick labels on top of each other
    c.text(s, cx, tickY, S, { anchor: 'middle', fill: '#333' });
    lastRight = cx + w / 2;
  }
  c.text(fitText(p.xLabel, S, plot.w), plot.x + plot.w / 2, tickY + S * 1.2 + 6, S, { anchor: 'middle', fill: '#333' });
  // the lines: test (secondary) under training
  const ordered = [...p.lines].sort((a, b) => Number(b.secondary ?? false) - Number(a.secondary ?? false));
  for (const l of ordered) {
    if (l.points.length === 0) continue;
    const d = l.points.map((pt, i) => `${i ? 'L' : 'M'}${xs(pt.x).toFixed(1)},${ys(pt.y).toFixed(1)}`).join('');
    c.parts.push(
      `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="${l.secondary ? SLIDE_LINE - 1 : SLIDE_LINE}" stroke-linejoin="round" stroke-linecap="round"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}${l.secondary ? ' stroke-opacity="0.55"' : ''}/>`,
    );
    l.dots?.forEach((color, i) => {
      const pt = l.points[i];
      if (pt) c.parts.push(`<circle cx="${xs(pt.x).toFixed(1)}" cy="${ys(pt.y).toFixed(1)}" r="10" fill="${color}" stroke="#fff" stroke-width="2.5"/>`);
    });
  }
  // end labels where their lines end, spread so that none overlaps another
  const labelled = p.lines.filter((l) => l.endLabel && l.points.length);
  const wanted = labelled.map((l) => ys(l.points[l.points.length - 1].y) + 0.35 * S);
  const placed = spreadLabels(wanted, S * 1.2 + 2, plot.y + S, plot.y + plot.h + 0.35 * S);
  labelled.forEach((l, i) => {
    const lastX = xs(l.points[l.points.length - 1].x);
    const x = Math.max(lastX, plot.x + plot.w) + 10;
    c.text(fitText(nameOf(l)!, S, box.x + box.w - x, true), x, placed[i], S, { bold: true, fill: l.color });
  });
}

/** A landscape panel: its title, the surfaces as large as the box allows side by side, each named under it, and its caption. */
function drawMaps(c: Canvas, p: SlidePanel, box: { x: number; y: number; w: number; h: number }): void {
  const [T, S] = [SLIDE_TYPE.text, SLIDE_TYPE.small];
  c.text(fitText(p.title, T, box.w, true), box.x + box.w / 2, box.y + T, T, { anchor: 'middle', bold: true });
  const maps = p.maps ?? [];
  const gap = 64;
  const top = box.y + T * 1.18 + 12;
  const captionY = box.y + box.h - 0.26 * S;
  const below = 2 * S * 1.2 + 12; // a map's two lines: its net and its number
  const size = Math.max(60, Math.min(captionY - S - 12 - top - below, (box.w - gap * (maps.length - 1)) / Math.max(1, maps.length)));
  let x = box.x + (box.w - (maps.length * size + (maps.length - 1) * gap)) / 2;
  for (const m of maps) {
    const n = m.cells.length;
    const k = size / n;
    const cells = m.cells.flatMap((row, r) =>
      row.map(
        (fill, col) =>
          `<rect x="${(col * k).toFixed(1)}" y="${(size - (r + 1) * k).toFixed(1)}" width="${(k + 0.6).toFixed(1)}" height="${(k + 0.6).toFixed(1)}" fill="${fill}"/>`,
      ),
    );
    const lines = m.contours(size).map((d) => `<path d="${d}" fill="none" stroke="#ffffff" stroke-width="4" stroke-opacity="0.7" stroke-linejoin="round"/>`);
    // the trained weights: the centre of the map
    const centre = `<circle cx="${size / 2}" cy="${size / 2}" r="11" fill="none" stroke="#ff4d4d" stroke-width="5"/>`;
    c.parts.push(
      `<g transform="translate(${x.toFixed(1)},${top.toFixed(1)})">${cells.join('')}${lines.join('')}${centre}<rect width="${size.toFixed(1)}" height="${size.toFixed(1)}" fill="none" stroke="#555" stroke-width="2"/></g>`,
    );
    const room = size + gap - 12;
    c.text(fitText(m.label, S, room, true), x + size / 2, top + size + S * 1.05 + 4, S, { anchor: 'middle', bold: true });
    c.text(fitText(m.note, S, room), x + size / 2, top + size + S * 2.25 + 8, S, { anchor: 'middle', fill: '#333' });
    x += size + gap;
  }
  if (p.caption) c.text(fitText(p.caption, S, box.w), box.x + box.w / 2, captionY, S, { anchor: 'middle', fill: '#333' });
}

/** The figure: title, verdict, the panels as large as the frame allows, the settings line. */
export function renderSlide(spec: SlideSpec): SlideResult {
  const { width, height } = SLIDE_SIZES[spec.aspect];
  const pad = 20;
  const c = new Canvas();
  c.parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  const inner = width - 2 * pad;
  c.text(fitText(spec.title, SLIDE_TYPE.title, inner, true), pad, pad + SLIDE_TYPE.title * 0.92, SLIDE_TYPE.title, { bold: true });
  let y = pad + SLIDE_TYPE.title * 1.18 + 6;
  const mark = spec.verdict.mark === 'holds' ? '✓ ' : spec.verdict.mark === 'fails' ? '✗ ' : '';
  // one line: at the text size, else at the small size, else cut
  const verdictSize = textWidth(mark + spec.verdict.text, SLIDE_TYPE.text) <= inner ? SLIDE_TYPE.text : SLIDE_TYPE.small;
  const fill = spec.verdict.mark === 'holds' ? '#0b6b4d' : spec.verdict.mark === 'fails' ? '#8a4b00' : '#222';
  c.text(fitText(mark + spec.verdict.text, verdictSize, inner), pad, y + SLIDE_TYPE.text * 0.92, verdictSize, { fill });
  y += SLIDE_TYPE.text * 1.18 + 4;
  const settingsY = height - pad - SLIDE_TYPE.small * 0.26;
  c.text(fitText(spec.settings, SLIDE_TYPE.small, inner), pad, settingsY, SLIDE_TYPE.small, { fill: '#444' });
  const top = y + 4;
  const bottom = settingsY - SLIDE_TYPE.small - 8;
  const gap = 36;
  // 16:9: every panel side by side; 4:3 with three or more: the curves above, the depth summary under them; a
  // landscape panel: the other panels side by side above it, the surfaces under them
  const all = spec.panels.map((_, i) => i);
  const maps = all.filter((i) => spec.panels[i].kind === 'landscape');
  const lines = all.filter((i) => spec.panels[i].kind !== 'landscape');
  const n = lines.length;
  const rows: number[][] = maps.length ? [lines, maps] : spec.aspect === '4:3' && n >= 3 ? [lines.slice(0, n - 1), [n - 1]] : [lines];
  const share = rows.map((row) => (maps.length && row === maps ? 0.46 : maps.length ? 0.54 : 1 / rows.length));
  let rowY = top;
  rows.forEach((row, r) => {
    const rowH = (bottom - top - gap * (rows.length - 1)) * share[r];
    const w = (inner - gap * (row.length - 1)) / row.length;
    row.forEach((i, k) => {
      const box = { x: pad + k * (w + gap), y: rowY, w, h: rowH };
      if (spec.panels[i].kind === 'landscape') drawMaps(c, spec.panels[i], box);
      else drawPanel(c, spec.panels[i], box, spec.yMax);
    });
    rowY += rowH + gap;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family='${FONT}' data-slide="${spec.aspect}">${c.parts.join('')}</svg>`;
  return { svg, width, height, texts: c.texts, chart: { x: pad, y: top, w: inner, h: bottom - top } };
}
