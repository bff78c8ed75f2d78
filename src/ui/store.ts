// The page's state (zustand): what the worker reported, the experiment form, the run on screen,
// a saved run to compare with, and view settings. Components read it; only actions change it.
import type { LessonStep } from '../core/lesson';
import { create } from 'zustand';
import type { BackendReport } from '../core/backend';
import type { ConfigIssue, ExperimentConfig } from '../core/config';
import { CONFIG_URL_KEYS, DEFAULT_CONFIG, configFromQuery, configToQuery, validateConfig } from '../core/config';
import type { NetInfo, NetSeries, Progress } from '../core/metrics';
import { appendSeries, emptySeries } from '../core/metrics';
import { CLASSROOM, PRESETS, presetById, presetList } from '../core/presets';
import type { RunFile } from '../core/runFile';
import type { RunLandscape } from '../core/landscape';
import type { ConvSelfTest } from '../core/selftest';
import type { RunRecord } from '../storage/runsDb';
import type { DatasetSummary, RunState } from '../worker/protocol';

export interface RunView {
  id: string;
  name: string;
  state: RunState | 'idle';
  engine: string;
  config: ExperimentConfig;
  nets: NetInfo[];
  series: Record<string, NetSeries>;
  progress: Progress | null;
  checkpointIteration: number | null;
  message?: string;
  /** The run was left 'running' by a page that was closed or reloaded. */
  interrupted?: boolean;
  /** Another tab trains this run: shown read-only here. */
  elsewhere?: boolean;
  /** Storage filled up at this iteration: the points after it are only in this page. */
  storageFullAt?: number;
  /** Pause or Stop was asked for and the worker has not answered yet (it answers within one round). */
  pending?: 'pausing' | 'stopping';
  /** The run's last loss landscape (saved with it). */
  landscape?: RunLandscape;
  /** A landscape being computed: the rows so far (`partial`), steps done of all of them, when it started and when its last step came (Date.now()). */
  landscapeJob?: LandscapeJob;
}

interface LandscapeJob {
  partial: RunLandscape;
  done: number;
  total: number;
  startedAt: number;
  stepAt: number;
}

/** The time a landscape job has left, at the pace of its steps so far (null before the first one is done). */
export function landscapeTimeLeft(job: Pick<LandscapeJob, 'done' | 'total' | 'startedAt' | 'stepAt'>): number | null {
  if (job.done <= 0) return null;
  return ((job.stepAt - job.startedAt) / job.done) * Math.max(0, job.total - job.done);
}

export interface CompareView {
  id: string;
  name: string;
  nets: NetInfo[];
  series: Record<string, NetSeries>;
}

type DataState =
  | { status: 'idle' }
  /** `previous`: the dataset loaded before a drop, which stays in use (and comes back) if the drop fails. */
  | { status: 'loading'; file?: string; loaded?: number; total?: number | null; previous?: Extract<DataState, { status: 'ready' }> }
  | { status: 'ready'; summary: DatasetSummary }
  | { status: 'missing'; reason: string; guidance: string[] }
  | { status: 'error'; message: string };

export interface LabState {
  backend: BackendReport | null;
  selftest: ConvSelfTest | 'running' | null;
  /** A small net's gradients on the active tfjs backend against the lab CPU engine. */
  netCheck: { backend: string; maxRelDiff: number; worst: string } | 'running' | null;
  data: DataState;
  config: ExperimentConfig;
  presetId: string | null;
  urlIssues: ConfigIssue[];
  run: RunView | null;
  compare: CompareView | null;
  savedRuns: RunRecord[];
  backendFailure: { runId: string; backend: string; message: string; suggestion: ExperimentConfig['backend'] } | null;
  errors: string[];
  notice: string | null;
  /** A new version of the app has taken over; this page stays on its own files until a reload (src/ui/serviceWorker.ts). */
  updateReady: boolean;
  classroom: boolean;
  scrubIteration: number | null;
  memory: { tensors: number; bytes: number } | null;
  /** Fault injection (tests): the page area whose next render throws (see ErrorBoundary.tsx). */
  viewFault: string | null;
  /** What this site stores, of the quota the browser gives it, and whether storage is persistent. */
  storage: { usage: number; quota: number; persisted: boolean } | null;
  /** This machine's measured training speed (from the last run that trained long enough), for expected times. */
  speed: MeasuredSpeed | null;
  /** The net whose architecture view is open (a net id of the run or the form's experiment), or null. */
  architecture: string | null;
  /** The guided lesson's step (src/ui/lesson), or null when no lesson is on. */
  lesson: LessonStep | null;
}

interface MeasuredSpeed {
  /** Forward multiply-adds per second (src/core/cost.ts measuredSpeed). */
  macsPerSec: number;
  /** The engine that ran at this speed. */
  engine: string;
  /** True when it comes from a few timed steps of one net before any run (estimateSpeed), not from a run. */
  estimated?: boolean;
}

const SPEED_KEY = 'degradation-lab.speed';

function loadSpeed(): MeasuredSpeed | null {
  try {
    const v = JSON.parse(localStorage.getItem(SPEED_KEY) ?? 'null') as MeasuredSpeed | null;
    return v && Number.isFinite(v.macsPerSec) && v.macsPerSec > 0 && typeof v.engine === 'string' ? v : null;
  } catch {
    return null;
  }
}

export function saveSpeed(speed: MeasuredSpeed): void {
  try {
    localStorage.setItem(SPEED_KEY, JSON.stringify(speed));
  } catch {
    // storage blocked: the figure lasts for this page only
  }
  useLab.setState({ speed });
}

/** The preset whose config this is exactly, or null ("Custom"). */
function presetIdOf(config: ExperimentConfig): string | null {
  const query = configToQuery(config);
  return PRESETS.find((p) => configToQuery(p.config) === query)?.id ?? null;
}

/** Show a config in the form and the URL (opening a saved run shows the settings that made it). */
export function showConfig(config: ExperimentConfig): void {
  useLab.setState({ config, presetId: presetIdOf(config) });
  syncUrl(useLab.getState());
}

/** Whether a page URL holds any config key (a link to an experiment, not a plain visit). */
export function linkHasConfigKeys(search: string): boolean {
  return [...new URLSearchParams(search).keys()].some((k) => CONFIG_URL_KEYS.includes(k));
}

/**
 * Read the initial config from the page URL (?preset=… or the config keys). A first visit, with
 * neither, gets the Classroom demo; a link whose config is exactly a preset's shows that preset.
 */
export function initialFromUrl(search: string): Pick<LabState, 'config' | 'presetId' | 'urlIssues' | 'classroom'> {
  const params = new URLSearchParams(search);
  const preset = params.get('preset');
  const base = preset ? presetById(preset)?.config : undefined;
  const issues: ConfigIssue[] = [];
  if (preset && !base) issues.push({ field: 'depths', level: 'error', message: `preset: "${preset}" is not a preset (${presetList()})` });
  const { config, issues: more } = configFromQuery(search, base ?? (linkHasConfigKeys(search) ? DEFAULT_CONFIG : CLASSROOM));
  return { config, presetId: presetIdOf(config), urlIssues: [...issues, ...more], classroom: params.get('view') === 'classroom' };
}

export const useLab = create<LabState>(() => ({
  backend: null,
  selftest: null,
  netCheck: null,
  data: { status: 'idle' },
  ...initialFromUrl(typeof location !== 'undefined' ? location.search : ''),
  run: null,
  compare: null,
  savedRuns: [],
  backendFailure: null,
  errors: [],
  notice: null,
  updateReady: false,
  scrubIteration: null,
  architecture: null,
  lesson: null,
  memory: null,
  viewFault: null,
  storage: null,
  speed: typeof localStorage !== 'undefined' ? loadSpeed() : null,
}));

/** The URL always holds the config (and the view), so a copied link reproduces the experiment. */
export function syncUrl(state: Pick<LabState, 'config' | 'classroom'>): void {
  const keep = new URLSearchParams(location.search).get('automation') === '1' ? '&automation=1' : '';
  const q = configToQuery(state.config) + (state.classroom ? '&view=classroom' : '') + keep;
  const url = `${location.pathname}?${q}`;
  if (url !== `${location.pathname}${location.search}`) history.replaceState(null, '', url);
}

/**
 * Change the form's config. Every change goes through validateConfig: a refused value leaves the
 * config as it was. Returns the issues (refusals and clamps) for the form to show.
 */
export function setConfig(patch: Partial<ExperimentConfig>, presetId: string | null = null): ConfigIssue[] {
  const { config, issues } = validateConfig({ ...useLab.getState().config, ...patch });
  if (issues.some((i) => i.level === 'error')) return issues;
  useLab.setState({ config, presetId });
  syncUrl(useLab.getState());
  return issues;
}

/**
 * Add streamed points. The columns grow in place (copying them four times a second would cost
 * O(points) per update); each changed net gets a new wrapper object, so charts see the change.
 */
export function mergeSeries(into: Record<string, NetSeries>, delta: Record<string, NetSeries>): Record<string, NetSeries> {
  const out = { ...into };
  for (const [id, s] of Object.entries(delta)) {
    const cur = appendSeries(out[id] ?? emptySeries(), s);
    out[id] = { train: cur.train, test: cur.test, taps: cur.taps };
  }
  return out;
}

/** The view of a run file (an opened saved run goes record → run file → view, so this is the one mapping). */
export function runViewFromFile(id: string, file: RunFile, extra: Pick<RunView, 'checkpointIteration' | 'message'> = { checkpointIteration: null }): RunView {
  return {
    id,
    name: file.name,
    state: file.status,
    engine: file.backend,
    config: file.config,
    nets: file.nets,
    series: file.series,
    progress: file.progress,
    landscape: file.landscape,
    ...extra,
  };
}
