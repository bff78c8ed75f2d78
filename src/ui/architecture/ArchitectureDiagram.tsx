// A net drawn as the paper draws its nets: the stem, three stages of blocks, and the head. Each
// block is a box (its branch F: "3×3 · 3×3" or "1×1 · 3×3 · 1×1"), and its shortcut a line beside
// it, drawn by kind: identity solid, option A's zero-pad + subsample dashed with "↓2 +0", a
// projection with a 1×1 box on it, a highway gate with a valve "T" (and a small box where its carry
// is projected); a plain block has none.
// The SVG is self-contained (white background, text in the page's font), so it exports as it is.
import { forwardRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { Architecture, ArchPart } from '../../core/architecture';
import type { BlockSpec, ShortcutKind } from '../../core/nets';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", sans-serif';
const COL = 210;
const SIDE = 120;
const PAD = 14;
const HEADER = 78;
const INK = '#1b1f24';
const BRANCH_FILL = '#e8f1fb';
const SHORTCUT = '#D55E00';

export const SHORTCUT_KINDS: ShortcutKind[] = ['identity', 'subsample-pad', 'projection', 'gated', 'none'];

const fmtParams = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));
const fmtMacs = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e5 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));

function branchText(b: BlockSpec): string {
  return b.branch.map((c) => `${c.k}×${c.k}`).join(' · ');
}

/** The shortcut glyph of one block, beside its box (x = the line's x, from y0 to y1). */
function Shortcut({ kind, x, y0, y1, stride, projected = false }: { kind: ShortcutKind; x: number; y0: number; y1: number; stride: number; projected?: boolean }) {
  if (kind === 'none') return null;
  const mid = (y0 + y1) / 2;
  const h = y1 - y0;
  const r = Math.max(3, Math.min(7, h / 2 - 1));
  return (
    <g data-shortcut={kind}>
      <path d={`M ${x - 8} ${y0 + 1} H ${x} V ${y1 - 1} H ${x - 8}`} fill="none" stroke={SHORTCUT} strokeWidth={1.8} strokeDasharray={kind === 'subsample-pad' ? '3 2' : undefined} />
      {kind === 'projection' && <rect x={x - r} y={mid - r} width={2 * r} height={2 * r} fill={SHORTCUT} />}
      {kind === 'gated' && projected && <rect x={x - 3} y={y0 - 1} width={6} height={6} fill={SHORTCUT} />}
      {kind === 'gated' && (
        <>
          <circle cx={x} cy={mid} r={r + 1} fill="#fff" stroke={SHORTCUT} strokeWidth={1.6} />
          {r >= 5 && (
            <text x={x} y={mid + 3.5} fontSize={9} fontWeight={700} textAnchor="middle" fill={SHORTCUT}>
              T
            </text>
          )}
        </>
      )}
      {kind === 'subsample-pad' && h >= 10 && (
        <text x={x + 4} y={mid + 3} fontSize={9} fill={SHORTCUT}>
          {stride === 2 ? '↓2 +0' : '+0'}
        </text>
      )}
    </g>
  );
}

function PartHeader({ x, title, part, width }: { x: number; title: string; part: ArchPart; width: number }) {
  const { t } = useTranslation();
  return (
    <g>
      <text x={x + width / 2} y={PAD + 14} fontSize={14} fontWeight={700} textAnchor="middle" fill={INK}>
        {title}
      </text>
      <text x={x + width / 2} y={PAD + 32} fontSize={12} textAnchor="middle" fill={INK}>
        {part.key === 'head' ? `${part.channels} ${t('arch.classes')}` : `${part.size}×${part.size}×${part.channels}`}
      </text>
      <text x={x + width / 2} y={PAD + 48} fontSize={11} textAnchor="middle" fill="#444">
        {`${fmtParams(part.params)} ${t('arch.paramsShort')}`}
      </text>
      <text x={x + width / 2} y={PAD + 62} fontSize={11} textAnchor="middle" fill="#444">
        {`${fmtMacs(part.multiplyAdds)} ${t('arch.macsShort')}`}
      </text>
    </g>
  );
}

/** The diagram; `ref` is the <svg> element, for export. */
export const ArchitectureDiagram = forwardRef<SVGSVGElement, { arch: Architecture }>(function ArchitectureDiagram({ arch }, ref) {
  const { t } = useTranslation();
  const most = Math.max(...arch.stages.map((s) => s.blocks.length));
  const rowH = Math.max(9, Math.min(26, Math.floor(300 / most)));
  const gap = rowH >= 16 ? 4 : 2;
  const bodyH = most * (rowH + gap);
  const width = PAD * 2 + SIDE * 2 + COL * 3;
  const legendY = PAD + HEADER + bodyH + 28;
  const height = legendY + 40;
  const top = PAD + HEADER;
  const midY = top + Math.min(bodyH, 60) / 2;
  const stageX = (i: number) => PAD + SIDE + i * COL;
  return (
    <svg ref={ref} xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} fontFamily={FONT} role="img" aria-label={t('arch.diagramLabel', { net: arch.spec.label })} data-testid="arch-diagram">
      <rect width={width} height={height} fill="#fff" />
      {/* stem */}
      <PartHeader x={PAD} width={SIDE - 16} title={t('arch.stem')} part={arch.stem} />
      <rect x={PAD + 10} y={top} width={SIDE - 36} height={Math.min(bodyH, 60)} rx={4} fill={BRANCH_FILL} stroke={INK} />
      <text x={PAD + SIDE / 2 - 8} y={midY + 4} fontSize={11} textAnchor="middle" fill={INK}>
        3×3 · {arch.stem.channels}
      </text>
      {/* stages */}
      {arch.stages.map((s, i) => {
        const x = stageX(i);
        const boxW = COL - 64;
        return (
          <g key={s.key} data-stage={s.key}>
            <PartHeader x={x} width={COL - 20} title={t('arch.stage', { n: i + 1, blocks: s.blocks.length })} part={s} />
            {s.blocks.map((b, j) => {
              const y = top + j * (rowH + gap);
              return (
                <g key={b.name} data-block={b.name}>
                  <rect x={x + 10} y={y} width={boxW} height={rowH} rx={3} fill={BRANCH_FILL} stroke={INK} strokeWidth={b.stride === 2 ? 2 : 1} />
                  {rowH >= 12 && (
                    <text x={x + 10 + boxW / 2} y={y + rowH / 2 + 4} fontSize={Math.min(11, rowH - 3)} textAnchor="middle" fill={INK}>
                      {branchText(b)}
                      {b.stride === 2 ? ' /2' : ''}
                    </text>
                  )}
                  <Shortcut kind={b.shortcut} x={x + boxW + 24} y0={y} y1={y + rowH} stride={b.stride} projected={b.projection !== undefined} />
                </g>
              );
            })}
            {i < 2 && <path d={`M ${x + COL - 22} ${midY} h 14`} stroke={INK} strokeWidth={1.5} markerEnd="url(#arch-arrow)" />}
          </g>
        );
      })}
      <path d={`M ${PAD + SIDE - 24} ${midY} h 30`} stroke={INK} strokeWidth={1.5} markerEnd="url(#arch-arrow)" />
      {/* head */}
      <PartHeader x={stageX(3)} width={SIDE - 16} title={t('arch.head')} part={arch.head} />
      <rect x={stageX(3) + 10} y={top} width={SIDE - 36} height={Math.min(bodyH, 60)} rx={4} fill="#f3f3f3" stroke={INK} />
      <text x={stageX(3) + SIDE / 2 - 8} y={midY - 3} fontSize={11} textAnchor="middle" fill={INK}>
        {t('arch.pool')}
      </text>
      <text x={stageX(3) + SIDE / 2 - 8} y={midY + 11} fontSize={11} textAnchor="middle" fill={INK}>
        FC {arch.head.channels}
      </text>
      <defs>
        <marker id="arch-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M 0 0 L 10 5 L 0 10 z" fill={INK} />
        </marker>
      </defs>
      {/* legend: the shortcut kinds this net has */}
      <g transform={`translate(${PAD}, ${legendY})`}>
        {SHORTCUT_KINDS.filter((k) => arch.shortcuts[k]).map((k, i) => (
          <g key={k} transform={`translate(${i * 250}, 0)`} data-legend={k}>
            <Shortcut kind={k} x={18} y0={-10} y1={12} stride={2} />
            <text x={k === 'none' ? 0 : 62} y={5} fontSize={12} fill={INK}>
              {`${t(`arch.shortcut.${k}`)} × ${arch.shortcuts[k]}`}
            </text>
          </g>
        ))}
        <text x={width - 2 * PAD} y={5} fontSize={12} textAnchor="end" fill={INK} fontWeight={700}>
          {`${t('arch.total')}: ${fmtParams(arch.params)} ${t('arch.paramsShort')} · ${fmtMacs(arch.multiplyAdds)} ${t('arch.macsShort')}`}
        </text>
      </g>
    </svg>
  );
});

export { fmtMacs, fmtParams };
