// Why residual learning works, seen (issue #27): the loss around a trained plain net and a trained ResNet of one depth,
// along the same two filter-normalised random directions (Li et al. 2018, Fig. 5), as maps on one log colour scale with
// log-spaced contour lines, and the 1-D slice through the centre. Computed in the worker on the engine that trained the
// nets, row by row (a progress bar, Cancel), and saved with the run.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { interpolateViridis } from 'd3-scale-chromatic';
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NetIdentity, NetLandscape, NetPath, RunLandscape } from '../../core/landscape';
import { LANDSCAPE_DEFAULTS, PATH_TS, gridAxis } from '../../core/landscape';
import { cancelLandscape, computeLandscape } from '../labController';
import type { RunView } from '../store';
import { landscapeTimeLeft, useLab } from '../store';
import { formatEta } from '../StatusBar';
import { ChartCard } from './ChartCard';
import { netColor } from './chartData';
import {
  centreRow,
  complete,
  identityCaption,
  pathCaption,
  contourPaths,
  defaultDepth,
  landscapeCaption,
  logLevels,
  lossDomain,
  pairAt,
  pairDepths,
  scaleOf,
  surfaceQuads,
} from './landscapeView';
import type { SurfaceCamera } from './landscapeView';

const MAP = 260;

/** A loss on an axis: two significant digits, whole numbers from 10, powers of ten past 10⁴. */
const formatLoss = (v: number) => (v < 10 ? v.toPrecision(2) : v < 1e4 ? String(Math.round(v)) : v.toExponential(0).replace('+', ''));
/** A net's line style in these cards, as in the curves: its colour, and dashed for a net without shortcuts. */
function netStyle(run: RunView, id: string): { color: string; dashed: boolean } {
  const info = run.nets.find((i) => i.id === id);
  return { color: info ? netColor(info, run.nets) : '#333', dashed: !info?.residual };
}

/** A net's line in these cards' charts (Recharts reads the element, so a function may make it). */
const netLine = (run: RunView, id: string, label: string) => {
  const style = netStyle(run, id);
  return (
    <RLine key={id} dataKey={id} name={label} stroke={style.color} strokeDasharray={style.dashed ? '6 3' : undefined} dot={false} isAnimationActive={false} />
  );
};

/** The tooltip's number: 3 significant digits. */
const tip = (v: unknown) => (typeof v === 'number' ? v.toPrecision(3) : String(v));

/** Grids the page offers: a quick one, and Li et al.'s. */
const GRIDS = [11, LANDSCAPE_DEFAULTS.grid];

function SurfaceMap({ l, net, domain }: { l: RunLandscape; net: NetLandscape; domain: [number, number] }) {
  const { t } = useTranslation();
  const n = l.grid;
  const k = MAP / n;
  const colour = scaleOf(domain);
  const paths = complete(l, net) ? contourPaths(net, logLevels(domain), MAP) : [];
  const pad = { left: 30, bottom: 34, top: 6, right: 6 };
  const W = MAP + pad.left + pad.right;
  const H = MAP + pad.top + pad.bottom;
  const ticks = [-l.span, 0, l.span];
  return (
    <div className="chart-panel landscape-map" data-subtitle={net.label} data-testid={`landscape-map-${net.label}`} data-rows={net.loss.length}>
      <h3 className="panel-title">{net.label}</h3>
      <svg className="figure-panel" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('landscape.mapLabel', { net: net.label })}>
        <g transform={`translate(${pad.left},${pad.top})`}>
          <rect width={MAP} height={MAP} fill="#e5e5e5" />
          {net.loss.map((row, r) =>
            row.map((v, c) => (
              <rect
                key={`${r}:${c}`}
                x={c * k}
                y={MAP - (r + 1) * k}
                width={k + 0.5}
                height={k + 0.5}
                fill={v === null ? '#bbbbbb' : interpolateViridis(colour(v))}
              >
                <title>{`${v === null ? t('landscape.overflow') : v.toPrecision(3)} · ${(100 * net.err[r][c]).toFixed(0)}%`}</title>
              </rect>
            )),
          )}
          {paths.map((p) => (
            <path key={p.level} d={p.d} fill="none" stroke="#ffffff" strokeOpacity={0.75} strokeWidth={1} />
          ))}
          {/* the trained weights: the centre of the map */}
          <circle cx={MAP / 2} cy={MAP / 2} r={4} fill="none" stroke="#ff4d4d" strokeWidth={2} />
          {ticks.map((v) => {
            const p = ((v + l.span) / (2 * l.span)) * (MAP - k) + k / 2;
            return (
              <g key={v}>
                <text x={p} y={MAP + 16} fontSize={13} textAnchor="middle" fill="#333">
                  {v}
                </text>
                <text x={-6} y={MAP - p + 4} fontSize={13} textAnchor="end" fill="#333">
                  {v}
                </text>
              </g>
            );
          })}
          <text x={MAP / 2} y={MAP + 31} fontSize={13} textAnchor="middle" fill="#555">
            {t('landscape.dir1')}
          </text>
        </g>
      </svg>
    </div>
  );
}

/** A surface in 3-D (landscapeView.ts surfaceQuads): the loss as height and colour on the maps' scale, turned by the camera. */
function SurfaceView({ net, domain, camera }: { net: NetLandscape; domain: [number, number]; camera: SurfaceCamera }) {
  const { t } = useTranslation();
  const box = { w: MAP + 36, h: MAP + 6 };
  const { quads, centre, floor } = surfaceQuads(net, domain, camera, box);
  return (
    <div className="chart-panel landscape-surface" data-subtitle={net.label} data-testid={`landscape-surface-${net.label}`} data-quads={quads.length}>
      <h3 className="panel-title">{net.label}</h3>
      <svg
        className="figure-panel"
        width={box.w}
        height={box.h}
        viewBox={`0 0 ${box.w} ${box.h}`}
        role="img"
        aria-label={t('landscape.surfaceLabel', { net: net.label })}
      >
        <polygon points={floor.map((p) => p.join(',')).join(' ')} fill="none" stroke="#999" strokeDasharray="4 3" />
        {quads.map((q, i) => (
          <polygon key={i} points={q.points.map((p) => p.join(',')).join(' ')} fill={q.fill} stroke="#ffffff" strokeOpacity={0.35} strokeWidth={0.5} />
        ))}
        {/* the trained weights: the centre of the grid */}
        <circle cx={centre[0]} cy={centre[1]} r={4} fill="none" stroke="#ff4d4d" strokeWidth={2} />
      </svg>
    </div>
  );
}

/** The colour key: the log scale from the lowest loss to the top, with the contour levels' values. */
function ColourKey({ domain }: { domain: [number, number] }) {
  const { t } = useTranslation();
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  return (
    <div className="landscape-key" aria-label={t('landscape.key')}>
      <span>{formatLoss(domain[0])}</span>
      <span className="landscape-key-bar" style={{ background: `linear-gradient(to right, ${stops.map((s) => interpolateViridis(s)).join(', ')})` }} />
      <span>
        ≥ {formatLoss(domain[1])} {t('landscape.keyUnit')}
      </span>
    </div>
  );
}

/** Every net's loss along the line from its initial weights to its trained ones (log scale), coloured and dashed as in the curves. */
function PathChart({ run, paths }: { run: RunView; paths: NetPath[] }) {
  const { t } = useTranslation();
  const data = PATH_TS.map((x, i) => ({ x, ...Object.fromEntries(paths.map((p) => [p.id, p.loss[i] ?? null])) }));
  return (
    <ChartCard
      id="landscape-path"
      title={t('landscape.pathTitle')}
      caption={pathCaption(t, paths)}
      legend={paths.map((p) => ({ label: p.label, ...netStyle(run, p.id) }))}
      csv={() => ['net,t,loss,error', ...paths.flatMap((p) => p.t.map((x, i) => `${p.label},${x},${p.loss[i] ?? ''},${p.err[i]}`))].join('\n')}
    >
      <div className="chart-panel" data-testid="landscape-path" data-nets={paths.length}>
        <ResponsiveContainer width="100%" height={240}>
          <LineChart data={data} margin={{ top: 6, right: 12, bottom: 16, left: 6 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              dataKey="x"
              type="number"
              domain={[PATH_TS[0], PATH_TS.at(-1)!]}
              ticks={[-0.25, 0, 0.5, 1, 1.25]}
              label={{ value: t('landscape.pathAxis'), position: 'insideBottom', offset: -8 }}
            />
            <YAxis scale="log" domain={lossDomain(paths.map((p) => ({ loss: [p.loss] })))} allowDataOverflow tickFormatter={formatLoss} width={52} />
            <Tooltip formatter={tip} />
            {paths.map((p) => netLine(run, p.id, p.label))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
}

/** ‖F(x)‖/‖x‖ by block for every net with shortcuts (the paper's "residual functions are small"), coloured as in the curves. */
function IdentityChart({ run, nets }: { run: RunView; nets: NetIdentity[] }) {
  const { t } = useTranslation();
  const blocks = Math.max(...nets.map((n) => n.ratios.length));
  const data = Array.from({ length: blocks }, (_, i) => ({ x: i + 1, ...Object.fromEntries(nets.map((n) => [n.id, n.ratios[i] ?? null])) }));
  return (
    <ChartCard
      id="landscape-identity"
      title={t('landscape.identityTitle')}
      caption={identityCaption(t, nets, run.nets)}
      legend={nets.map((n) => ({ label: n.label, color: netStyle(run, n.id).color, dashed: false }))}
      csv={() => ['net,block,ratio', ...nets.flatMap((n) => n.ratios.map((r, i) => `${n.label},${i + 1},${r}`))].join('\n')}
    >
      <div className="chart-panel" data-testid="landscape-identity" data-nets={nets.length}>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={data} margin={{ top: 6, right: 12, bottom: 16, left: 6 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis
              dataKey="x"
              type="number"
              domain={[1, blocks]}
              allowDecimals={false}
              label={{ value: t('landscape.identityAxis'), position: 'insideBottom', offset: -8 }}
            />
            <YAxis domain={[0, 'auto']} tickFormatter={(v: number) => v.toFixed(1)} width={44} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
            {nets.map((n) => (
              <RLine key={n.id} dataKey={n.id} name={n.label} stroke={netStyle(run, n.id).color} dot={{ r: 2 }} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
}

export function LandscapePanel({ run }: { run: RunView }) {
  const { t } = useTranslation();
  const classroom = useLab((s) => s.classroom);
  const depths = pairDepths(run.nets);
  const [chosen, setChosen] = useState<number | null>(null);
  const [grid, setGrid] = useState<number>(LANDSCAPE_DEFAULTS.grid);
  // maps (contours) or the surfaces in 3-D, turned together by the slider
  const [view, setView] = useState<'maps' | '3d'>('maps');
  const [azimuth, setAzimuth] = useState(-35);
  const depth = chosen !== null && depths.includes(chosen) ? chosen : defaultDepth(run.nets);
  const job = run.landscapeJob;
  const shown = job?.partial ?? run.landscape;
  const training = run.state === 'running' || run.state === 'starting';
  // classroom mode shows a landscape computed before (its tools are hidden there, and its first screen does not scroll)
  if ((depth === null || classroom) && !shown) return null;
  const domain = lossDomain(shown?.nets ?? []);
  const slice = shown
    ? gridAxis(shown.grid, shown.span).map((x, i) => ({ x, ...Object.fromEntries(shown.nets.map((n) => [n.id, centreRow(n, shown.grid)[i] ?? null])) }))
    : [];
  const csv = () =>
    [
      'net,x,y,loss,error',
      ...(shown?.nets ?? []).flatMap((n) => {
        const axis = gridAxis(shown!.grid, shown!.span);
        return n.loss.flatMap((row, r) => row.map((v, c) => `${n.label},${axis[c]},${axis[r]},${v ?? ''},${n.err[r][c]}`));
      }),
    ].join('\n');
  // as of the last step that streamed in, at the job's own pace
  const left = job ? landscapeTimeLeft(job) : null;
  const start = () => depth !== null && computeLandscape(pairAt(run.nets, depth), grid, LANDSCAPE_DEFAULTS.span, LANDSCAPE_DEFAULTS.sample);
  return (
    <div className="landscape-cards">
      <ChartCard
        id="landscape"
        title={t('landscape.title')}
        caption={shown ? landscapeCaption(t, shown, run.nets, classroom) : t('landscape.intro')}
        legend={(shown?.nets ?? []).map((n) => ({ label: n.label, ...netStyle(run, n.id) }))}
        csv={csv}
        empty={!shown}
        tools={
          <>
            {depths.length > 1 && (
              <label>
                {t('charts.netFor')}{' '}
                <select value={depth ?? ''} onChange={(e) => setChosen(Number(e.target.value))} disabled={Boolean(job)}>
                  {depths.map((d) => (
                    <option key={d} value={d}>
                      {d}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {shown && (
              <label>
                {t('landscape.view')}{' '}
                <select value={view} onChange={(e) => setView(e.target.value as 'maps' | '3d')} data-testid="landscape-view">
                  <option value="maps">{t('landscape.viewMaps')}</option>
                  <option value="3d">{t('landscape.view3d')}</option>
                </select>
              </label>
            )}
            {shown && view === '3d' && (
              <label>
                {t('landscape.turn')}{' '}
                <input
                  type="range"
                  min={-180}
                  max={180}
                  step={5}
                  value={azimuth}
                  onChange={(e) => setAzimuth(Number(e.target.value))}
                  data-testid="landscape-turn"
                  aria-valuetext={`${azimuth}°`}
                />
              </label>
            )}
            <label>
              {t('landscape.grid')}{' '}
              <select value={grid} onChange={(e) => setGrid(Number(e.target.value))} disabled={Boolean(job)} data-testid="landscape-grid">
                {GRIDS.map((g) => (
                  <option key={g} value={g}>
                    {g} × {g}
                  </option>
                ))}
              </select>
            </label>
            {job ? (
              <button type="button" onClick={cancelLandscape}>
                {t('landscape.cancel')}
              </button>
            ) : (
              <button type="button" onClick={start} disabled={training || depth === null} title={training ? t('landscape.whileTraining') : undefined}>
                {shown ? t('landscape.recompute') : t('landscape.compute')}
              </button>
            )}
          </>
        }
      >
        {job && (
          <div className="landscape-progress">
            <progress max={job.total} value={job.done} aria-label={t('landscape.progressLabel')} />{' '}
            <span data-testid="landscape-progress">
              {t('landscape.progress', { done: job.done, total: job.total })}
              {left !== null && ` · ${t('landscape.left', { left: formatEta(left, t).text })}`}
            </span>
          </div>
        )}
        {!shown && training && <p className="caption">{t('landscape.whileTraining')}</p>}
        {shown && (
          <>
            <div className="landscape-maps">
              {shown.nets.map((n) =>
                view === '3d' && complete(shown, n) ? (
                  <SurfaceView key={n.id} net={n} domain={domain} camera={{ azimuth, elevation: 32 }} />
                ) : (
                  <SurfaceMap key={n.id} l={shown} net={n} domain={domain} />
                ),
              )}
              <div className="chart-panel landscape-slice" data-subtitle={t('landscape.slice')}>
                <h3 className="panel-title">{t('landscape.slice')}</h3>
                <ResponsiveContainer width="100%" height={MAP + 34}>
                  <LineChart data={slice} margin={{ top: 6, right: 12, bottom: 16, left: 6 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis
                      dataKey="x"
                      type="number"
                      domain={[-shown.span, shown.span]}
                      label={{ value: t('landscape.dir1'), position: 'insideBottom', offset: -8 }}
                    />
                    <YAxis scale="log" domain={domain} allowDataOverflow tickFormatter={formatLoss} width={52} />
                    <Tooltip formatter={tip} />
                    {shown.nets.map((n) => netLine(run, n.id, n.label))}
                  </LineChart>
                </ResponsiveContainer>
              </div>
            </div>
            <ColourKey domain={domain} />
          </>
        )}
      </ChartCard>
      {shown?.paths?.length ? <PathChart run={run} paths={shown.paths} /> : null}
      {shown?.identity?.some((n) => n.ratios.length) ? <IdentityChart run={run} nets={shown.identity.filter((n) => n.ratios.length)} /> : null}
    </div>
  );
}
