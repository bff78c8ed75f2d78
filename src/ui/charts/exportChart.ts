// Slide-ready exports of a chart card: one standalone SVG with a white background, the title,
// the card's panels side by side, and a legend; a PNG of it at 2×; and CSV from the data.
import { FONT_STACK as FONT } from '../fonts';

export interface LegendItem {
  label: string;
  color: string;
  dashed: boolean;
  /** A dash pattern other than the training curves' (the summary's line styles); overrides `dashed`. */
  dash?: string;
  /** The net the entry stands for: the entry then opens its architecture view. */
  netId?: string;
}

/** The SVG dash array of a legend item. */
export const legendDash = (l: LegendItem): string | undefined => l.dash ?? (l.dashed ? '6 4' : undefined);

interface FigureSpec {
  title: string;
  /** The chart SVGs to place side by side, each with an optional subtitle. */
  panels: { svg: SVGSVGElement; subtitle?: string }[];
  legend: LegendItem[];
  /** Text under the legend: the caption and what the run simplifies compared with the paper. */
  footer?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Compose the figure as a standalone SVG document; returns it with its size in CSS pixels. */
export function composeSvg(spec: FigureSpec): { svg: string; width: number; height: number } {
  const pad = 16;
  const titleH = 34;
  const subH = spec.panels.some((p) => p.subtitle) ? 22 : 0;
  const sizes = spec.panels.map((p) => {
    const r = p.svg.getBoundingClientRect();
    return { w: Math.round(r.width || Number(p.svg.getAttribute('width')) || 400), h: Math.round(r.height || Number(p.svg.getAttribute('height')) || 300) };
  });
  const panelsW = sizes.reduce((s, x) => s + x.w, 0) + pad * (sizes.length - 1);
  const width = Math.max(panelsW + 2 * pad, 480);
  const perRow = Math.max(1, Math.floor((width - 2 * pad) / 220));
  const legendRows = Math.ceil(spec.legend.length / perRow);
  const panelsH = Math.max(...sizes.map((s) => s.h));
  const footer = wrapText(spec.footer ?? '', Math.floor((width - 2 * pad) / 6.6));
  const footerH = footer.length ? 8 + footer.length * 17 : 0;
  const height = pad + titleH + subH + panelsH + (legendRows ? 12 + legendRows * 22 : 0) + footerH + pad;
  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${pad}" y="${pad + 22}" font-size="20" font-weight="600" fill="#111">${esc(spec.title)}</text>`);
  let x = pad;
  spec.panels.forEach((p, i) => {
    const y = pad + titleH;
    if (p.subtitle)
      parts.push(`<text x="${x + sizes[i].w / 2}" y="${y + 15}" font-size="15" font-weight="600" text-anchor="middle" fill="#222">${esc(p.subtitle)}</text>`);
    const clone = p.svg.cloneNode(true) as SVGSVGElement;
    clone.setAttribute('x', String(x));
    clone.setAttribute('y', String(y + subH));
    clone.setAttribute('width', String(sizes[i].w));
    clone.setAttribute('height', String(sizes[i].h));
    clone.removeAttribute('style');
    parts.push(new XMLSerializer().serializeToString(clone));
    x += sizes[i].w + pad;
  });
  const ly = pad + titleH + subH + panelsH + 12;
  spec.legend.forEach((item, i) => {
    const col = i % perRow;
    const row = Math.floor(i / perRow);
    const lx = pad + col * 220;
    const yy = ly + row * 22 + 11;
    parts.push(
      `<line x1="${lx}" y1="${yy}" x2="${lx + 26}" y2="${yy}" stroke="${item.color}" stroke-width="2.5"${legendDash(item) ? ` stroke-dasharray="${legendDash(item)}"` : ''}/>`,
      `<text x="${lx + 32}" y="${yy + 4}" font-size="13" fill="#222">${esc(item.label)}</text>`,
    );
  });
  const fy = ly + legendRows * 22 + 8;
  footer.forEach((line, i) => parts.push(`<text x="${pad}" y="${fy + 13 + i * 17}" font-size="12" fill="#444">${esc(line)}</text>`));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family='${FONT}'>${parts.join('')}</svg>`;
  return { svg, width, height };
}

/** Break text into lines of at most `max` characters, at spaces (CJK text, which has none, at any character). */
function wrapText(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/(?<= )/)) {
    for (let w = word; w.length > 0;) {
      const room = max - line.length;
      if (w.length <= room) {
        line += w;
        w = '';
      } else if (line.length > 0 && w.length <= max) {
        lines.push(line.trimEnd());
        line = '';
      } else {
        line += w.slice(0, room);
        w = w.slice(room);
        lines.push(line.trimEnd());
        line = '';
      }
    }
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines;
}

/** Render an SVG document to a PNG at `scale`× (2× for slides). */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const img = new Image();
    img.decoding = 'async';
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the chart could not be rendered to an image'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function download(data: Blob | string, fileName: string, type = 'text/plain'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name from a title: letters of any script and digits kept (a Chinese title stays readable), the rest dashes. */
export const slug = (s: string) =>
  s
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-|-$/g, '') || 'chart';

/** The charts on screen, by id, so automation (the headless runner) can export what users export. */
interface ChartExporter {
  figure(): { svg: string; width: number; height: number };
  csv(): string;
}
export const chartExporters = new Map<string, ChartExporter>();
