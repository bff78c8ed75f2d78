// Automation: with ?automation=1 the page exposes `window.labAutomation`, which the benchmark
// harness (bench/run.ts) and the headless experiment runner (scripts/experiment.ts) drive through
// Playwright. They go through the same worker, engines, charts and exports as a user does.
import type { ExperimentConfig } from '../core/config';
import type { RunFile } from '../core/runFile';
import type { BenchResult, BenchSpec } from '../worker/protocol';
import { chartExporters, svgToPng } from './charts/exportChart';
import type { Command } from '../worker/protocol';
import { computeLandscape, injectFault, startRun, stopRun } from './labController';
import type { LandscapeAsk, RunLandscape } from '../core/landscape';
import { LANDSCAPE_DEFAULTS } from '../core/landscape';
import { runBench } from './lab/channel';
import { runAsFile } from './lab/savedRuns';
import { useLab } from './store';

export interface LabAutomation {
  state(): {
    data: string;
    dataSource: string | null;
    /** Milliseconds from navigation start to a loaded dataset. */
    dataReadyMs: number | null;
    backend: string | null;
    run: {
      id: string;
      state: string;
      engine: string;
      progress: unknown;
      nets: unknown;
      interrupted: boolean;
      /** Each net's latest running training error (0..1). */
      runningError: Record<string, number | null>;
      message?: string;
    } | null;
  };
  stop(): void;
  start(): void;
  /** Start an experiment with a config (validated by the worker), streaming metrics to the page or not. */
  startWith(config: Partial<ExperimentConfig>, stream: boolean): void;
  runFile(): Promise<RunFile | null>;
  charts(): string[];
  /** A chart as the page exports it: PNG (base64, 2×), SVG or CSV text. */
  exportChart(id: string, format: 'png' | 'svg' | 'csv'): Promise<string>;
  bench(spec: BenchSpec): Promise<BenchResult>;
  injectFault(kind: Extract<Command, { type: 'injectFault' }>['kind']): void;
  /** Make one page area ('charts', 'saved runs') fail to render, as a bug would (tests the error boundary). */
  breakView(area: string): void;
  /** Compute the loss landscapes of nets of the run on screen (ids or labels, any case), as the page's button does; the result, or the reason it failed. */
  landscape(nets: string[], ask: Partial<Omit<LandscapeAsk, 'nets'>>): Promise<RunLandscape>;
}

async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

let dataReadyAt: number | null = null;

export function installAutomation(): void {
  useLab.subscribe((s) => {
    if (s.data.status === 'ready' && dataReadyAt === null) dataReadyAt = performance.now();
  });
  const api: LabAutomation = {
    state() {
      const s = useLab.getState();
      return {
        data: s.data.status,
        dataSource: s.data.status === 'ready' ? s.data.summary.source : null,
        dataReadyMs: dataReadyAt,
        backend: s.backend?.active ?? null,
        run: s.run
          ? {
              id: s.run.id,
              state: s.run.state,
              engine: s.run.engine,
              progress: s.run.progress,
              nets: s.run.nets,
              interrupted: Boolean(s.run.interrupted),
              runningError: Object.fromEntries(s.run.nets.map((n) => [n.label, s.run!.series[n.id]?.train.runErr.at(-1) ?? null])),
              message: s.run.message,
            }
          : null,
      };
    },
    start: () => startRun(),
    stop: stopRun,
    startWith(config, stream) {
      useLab.setState((s) => ({ config: { ...s.config, ...config } }));
      startRun({ stream });
    },
    async runFile() {
      const id = useLab.getState().run?.id;
      return id ? runAsFile(id) : null;
    },
    charts: () => [...chartExporters.keys()],
    async exportChart(id, format) {
      const chart = chartExporters.get(id);
      if (!chart) throw new Error(`no chart ${id} on the page (have: ${[...chartExporters.keys()].join(', ')})`);
      if (format === 'csv') return chart.csv();
      const f = chart.figure();
      return format === 'svg' ? f.svg : blobToBase64(await svgToPng(f.svg, f.width, f.height, 2));
    },
    bench: runBench,
    injectFault,
    breakView: (area) => useLab.setState({ viewFault: area }),
    landscape(wanted, ask) {
      const run = useLab.getState().run;
      if (!run) return Promise.reject(new Error('no run on the page'));
      const nets = wanted.map((w) => {
        const n = run.nets.find((i) => i.id === w || i.label.toLowerCase() === w.toLowerCase());
        if (!n) throw new Error(`no net ${w} in the run (it has ${run.nets.map((i) => i.label).join(', ')})`);
        return n;
      });
      const { grid, span, sample } = { ...LANDSCAPE_DEFAULTS, ...ask };
      const before = run.landscape;
      computeLandscape(nets, grid, span, sample);
      return new Promise((resolve, reject) => {
        const done = useLab.subscribe((s) => {
          if (s.run?.landscapeJob) return;
          done();
          if (s.run?.landscape && s.run.landscape !== before) resolve(s.run.landscape);
          else reject(new Error(s.errors.at(-1) ?? 'the landscape was cancelled'));
        });
      });
    },
  };
  (window as unknown as { labAutomation: LabAutomation }).labAutomation = api;
}
