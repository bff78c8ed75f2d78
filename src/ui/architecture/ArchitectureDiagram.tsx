// A net drawn as the paper draws a block (Fig. 2): weight layer, ReLU, weight layer, ⊕ with the
// shortcut curving around the branch, ReLU. The stem, then a column per stage, then the head. A run of
// identical blocks is drawn once with "× n" (src/core/architecture.ts foldBlocks), so ResNet-56 and
// ResNet-110 fit one 1280×720 screen; every label is 16 px or more. The shortcut's kind is its line:
// identity solid, option A's zero-padding dashed, a projection with a 1×1 conv box on it, a highway
// gate with a valve T; a plain block has none (and no ⊕). The SVG is self-contained (white background,
// text in the page's font), so it exports as it is.
import { FONT_STACK as FONT } from '../fonts';
import type { ReactElement } from 'react';
import { forwardRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { Architecture, ArchPart, BlockRun } from '../../core/architecture';
import { foldBlocks } from '../../core/architecture';
import type { BlockSpec } from '../../core/nets';

const INK = '#1b1f24';
const BRANCH_FILL = '#e8f1fb';
const SHORTCUT = '#B34700';
/** The drawing's width: the dialog's at 1280 px, so it is drawn at 1:1 there and its 16 px text stays 16 px. */
const DIAGRAM_WIDTH = 1120;
const PAD = 12;
const SIDE = 112;
const GAP = 14;
const HEADER = 74;
const BOX_W = 100;
const BOX_H = 44;
const BLOCK_W = 150;
const TEXT = 16;

const fmtParams = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));
const fmtMacs = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e5 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);

/** The height of a block drawing: a box per conv, a ReLU between them, then ⊕ (or not) and the last ReLU. */
const blockHeight = (b: BlockSpec) => 16 + b.branch.length * BOX_H + (b.branch.length - 1) * 40 + 18 + (b.shortcut === 'none' ? 0 : 32) + 26;

/** A weight layer: a box with its kernel and filters ("3×3 conv" / "32, /2"). */
function WeightBox({ x, y, k, filters, stride }: { x: number; y: number; k: number; filters: number; stride: number }) {
  const { t } = useTranslation();
  return (
    <g>
      <rect x={x} y={y} width={BOX_W} height={BOX_H} rx={5} fill={BRANCH_FILL} stroke={INK} strokeWidth={stride === 2 ? 2.5 : 1.5} />
      <text x={x + BOX_W / 2} y={y + 19} fontSize={TEXT} textAnchor="middle" fill={INK}>
        {t('arch.conv', { k })}
      </text>
      <text x={x + BOX_W / 2} y={y + 38} fontSize={TEXT} textAnchor="middle" fill={INK}>
        {stride === 2 ? `${filters}, /2` : filters}
      </text>
    </g>
  );
}

/** One run of identical blocks, Fig. 2 style, with its shortcut and "× n". */
function BlockDrawing({ run, x, y }: { run: BlockRun; x: number; y: number }) {
  const { t } = useTranslation();
  const b = run.block;
  const cx = x + BOX_W / 2;
  const parts: ReactElement[] = [];
  let yy = y + 16;
  // the input comes in from above
  parts.push(<path key="in" d={`M ${cx} ${y} V ${yy}`} stroke={INK} strokeWidth={2} markerEnd="url(#arch-arrow)" />);
  b.branch.forEach((c, i) => {
    parts.push(<WeightBox key={`w${i}`} x={x} y={yy} k={c.k} filters={c.outC} stride={c.stride} />);
    yy += BOX_H;
    if (i < b.branch.length - 1) {
      parts.push(
        <text key={`r${i}`} x={cx + 8} y={yy + 26} fontSize={TEXT} fill={INK}>
          ReLU
        </text>,
        <path key={`a${i}`} d={`M ${cx} ${yy} V ${yy + 40}`} stroke={INK} strokeWidth={2} markerEnd="url(#arch-arrow)" />,
      );
      yy += 40;
    }
  });
  const startY = y + 6;
  if (b.shortcut !== 'none') {
    // ⊕, with the shortcut curving around the branch into it
    const plusY = yy + 30;
    const sx = x + BOX_W + 24;
    parts.push(
      <path key="to-plus" d={`M ${cx} ${yy} V ${plusY - 12}`} stroke={INK} strokeWidth={2} />,
      <g key="shortcut" data-shortcut={b.shortcut}>
        <path
          d={`M ${cx} ${startY} H ${sx - 10} Q ${sx} ${startY} ${sx} ${startY + 10} V ${plusY - 10} Q ${sx} ${plusY} ${sx - 10} ${plusY} H ${cx + 13}`}
          fill="none"
          stroke={SHORTCUT}
          strokeWidth={2.5}
          strokeDasharray={b.shortcut === 'subsample-pad' ? '7 5' : undefined}
          markerEnd="url(#arch-arrow-sc)"
        />
        {b.shortcut === 'projection' && <rect x={sx - 9} y={(startY + plusY) / 2 - 9} width={18} height={18} fill={SHORTCUT} />}
        {b.shortcut === 'gated' && b.projection && <rect x={sx - 7} y={startY + 14} width={14} height={14} fill={SHORTCUT} />}
        {b.shortcut === 'gated' && (
          <>
            <circle cx={sx} cy={(startY + plusY) / 2} r={12} fill="#fff" stroke={SHORTCUT} strokeWidth={2.5} />
            <text x={sx} y={(startY + plusY) / 2 + 6} fontSize={TEXT} fontWeight={700} textAnchor="middle" fill={SHORTCUT}>
              T
            </text>
          </>
        )}
      </g>,
      <circle key="plus" cx={cx} cy={plusY} r={12} fill="#fff" stroke={INK} strokeWidth={2} />,
      <path key="plus-sign" d={`M ${cx - 7} ${plusY} H ${cx + 7} M ${cx} ${plusY - 7} V ${plusY + 7}`} stroke={INK} strokeWidth={2} />,
    );
    yy = plusY + 12;
  }
  // the last ReLU, after the addition in a residual block
  parts.push(
    <path key="out" d={`M ${cx} ${yy} V ${yy + 22}`} stroke={INK} strokeWidth={2} markerEnd="url(#arch-arrow)" />,
    <text key="relu-out" x={cx + 8} y={yy + 17} fontSize={TEXT} fill={INK}>
      ReLU
    </text>,
  );
  yy += 26;
  const sep = t('arch.sep');
  const label =
    b.shortcut === 'none'
      ? t('arch.noShortcut')
      : b.shortcut === 'gated' && b.projection
        ? `${t('arch.shortcutShort.gated')}${sep}${t('arch.shortcutShort.projection')}`
        : t(`arch.shortcutShort.${b.shortcut}`) +
          (b.stride === 2 && b.shortcut === 'subsample-pad' ? `${sep}/2` : b.projection ? `${sep}${b.projection.outC}` : '');
  return (
    <g data-block={b.name} data-repeat={run.count}>
      {parts}
      <text x={x + BLOCK_W / 2 - 8} y={yy + 20} fontSize={TEXT} textAnchor="middle" fill={b.shortcut === 'none' ? '#444' : SHORTCUT}>
        {label}
      </text>
      <text x={x + BLOCK_W / 2 - 8} y={yy + 44} fontSize={18} fontWeight={700} textAnchor="middle" fill={INK} data-testid="arch-repeat">
        × {run.count}
      </text>
    </g>
  );
}

function PartHeader({ x, title, part, width }: { x: number; title: string; part: ArchPart; width: number }) {
  const { t } = useTranslation();
  return (
    <g>
      <text x={x + width / 2} y={PAD + 16} fontSize={18} fontWeight={700} textAnchor="middle" fill={INK}>
        {title}
      </text>
      <text x={x + width / 2} y={PAD + 38} fontSize={TEXT} textAnchor="middle" fill={INK}>
        {part.key === 'head' ? `${part.channels} ${t('arch.classes')}` : `${part.size}×${part.size}×${part.channels}`}
      </text>
      <text x={x + width / 2} y={PAD + 58} fontSize={TEXT} textAnchor="middle" fill="#444">
        {`${fmtParams(part.params)} ${t('arch.paramsShort')}`}
      </text>
    </g>
  );
}

/** The diagram; `ref` is the <svg> element, for export. */
export const ArchitectureDiagram = forwardRef<SVGSVGElement, { arch: Architecture }>(function ArchitectureDiagram({ arch }, ref) {
  const { t } = useTranslation();
  const stages = arch.stages.map((s) => ({ part: s, runs: foldBlocks(s.blocks) }));
  const colW = (DIAGRAM_WIDTH - 2 * PAD - 2 * SIDE - 4 * GAP) / 3;
  const tallest = Math.max(...stages.flatMap((s) => s.runs.map((r) => blockHeight(r.block))));
  const top = PAD + HEADER;
  const bodyH = tallest + 54;
  const totalY = top + bodyH + 24;
  const height = totalY + 16;
  const stageX = (i: number) => PAD + SIDE + GAP + i * (colW + GAP);
  const midY = top + 16 + BOX_H / 2;
  const headX = stageX(3);
  return (
    <svg
      ref={ref}
      xmlns="http://www.w3.org/2000/svg"
      width={DIAGRAM_WIDTH}
      height={height}
      viewBox={`0 0 ${DIAGRAM_WIDTH} ${height}`}
      fontFamily={FONT}
      role="img"
      aria-label={t('arch.diagramLabel', { net: arch.spec.label })}
      data-testid="arch-diagram"
    >
      <rect width={DIAGRAM_WIDTH} height={height} fill="#fff" />
      <defs>
        <marker id="arch-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">
          <path d="M 0 0 L 10 5 L 0 10 z" fill={INK} />
        </marker>
        <marker id="arch-arrow-sc" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto">
          <path d="M 0 0 L 10 5 L 0 10 z" fill={SHORTCUT} />
        </marker>
      </defs>
      {/* stem: the image, then one 3×3 conv */}
      <PartHeader x={PAD} width={SIDE} title={t('arch.stem')} part={arch.stem} />
      <WeightBox x={PAD + (SIDE - BOX_W) / 2} y={top + 16} k={arch.spec.stem.k} filters={arch.stem.channels} stride={1} />
      <path d={`M ${PAD + (SIDE + BOX_W) / 2} ${midY} H ${stageX(0) - 4}`} stroke={INK} strokeWidth={2} markerEnd="url(#arch-arrow)" />
      {stages.map(({ part, runs }, i) => {
        const x = stageX(i);
        const w = Math.min(BLOCK_W, colW / runs.length);
        return (
          <g key={part.key} data-stage={part.key}>
            <rect x={x - 4} y={PAD - 4} width={colW + 8} height={top + bodyH - PAD + 8} rx={8} fill="none" stroke="#c9cfd8" />
            <PartHeader x={x} width={colW} title={t('arch.stage', { n: i + 1, blocks: part.blocks.length })} part={part} />
            {runs.map((r, k) => (
              <BlockDrawing key={r.block.name} run={r} x={x + 8 + k * w + (colW - runs.length * w) / 2} y={top} />
            ))}
            {i < 2 && <path d={`M ${x + colW + 2} ${midY} H ${stageX(i + 1) - 4}`} stroke={INK} strokeWidth={2} markerEnd="url(#arch-arrow)" />}
          </g>
        );
      })}
      <path d={`M ${stageX(2) + colW + 2} ${midY} H ${headX + (SIDE - BOX_W) / 2 - 2}`} stroke={INK} strokeWidth={2} markerEnd="url(#arch-arrow)" />
      {/* head: global average pooling, then the FC layer */}
      <PartHeader x={headX} width={SIDE} title={t('arch.head')} part={arch.head} />
      <rect x={headX + (SIDE - BOX_W) / 2} y={top + 16} width={BOX_W} height={BOX_H + 22} rx={5} fill="#f3f3f3" stroke={INK} strokeWidth={1.5} />
      <text x={headX + SIDE / 2} y={top + 40} fontSize={TEXT} textAnchor="middle" fill={INK}>
        {t('arch.pool')}
      </text>
      <text x={headX + SIDE / 2} y={top + 66} fontSize={TEXT} textAnchor="middle" fill={INK}>
        FC {arch.head.channels}
      </text>
      <text x={DIAGRAM_WIDTH - PAD} y={totalY} fontSize={TEXT} textAnchor="end" fill={INK} fontWeight={700}>
        {`${t('arch.total')}: ${arch.spec.depth} ${t('arch.layers')} · ${fmtParams(arch.params)} ${t('arch.paramsShort')} · ${fmtMacs(arch.multiplyAdds)} ${t('arch.macsShort')}`}
      </text>
    </svg>
  );
});

export { fmtMacs, fmtParams };
