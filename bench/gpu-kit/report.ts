// The GPU kit's results: one JSON shape (results.json) and its Markdown table (results.md), which
// docs/benchmarks.md §6 takes as it is.
import type { KitMode } from './cases';

export interface ThroughputRow {
  name: string;
  batch: number;
  width: number;
  nets: number;
  reps: number;
  warmupMs: number;
  /** Median wall time of one round (every net one step), losses read back. */
  roundMs: number;
  /** Images through a training step per second, all nets together. */
  imagesPerSec: number;
  gpuBytes: number;
  /** One step of the case's first net, every dispatch timed on the GPU alone; null without timestamp queries. */
  profile: { net: string; kernels: { kernel: string; dispatches: number; ms: number }[] } | null;
}

/** What torch_kit.py measured: the same cases, one process, eager and torch.compile. */
export interface TorchFigures {
  torch: string;
  device: string;
  rows: { name: string; eager: { imagesPerSec: number; roundMs: number } | null; compiled: { imagesPerSec: number; roundMs: number } | null; note?: string }[];
}

export interface KitReport {
  mode: KitMode;
  date: string;
  runtime: string;
  adapter: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    fallback: boolean;
    features: string[];
    limits: Record<string, number>;
  };
  agreement: { name: string; steps: number; checks: number; failed: string[]; worst: { what: string; ratio: number } }[];
  throughput: ThroughputRow[];
  torch: TorchFigures | null;
  /** Null where --only left it out. */
  classroom: {
    iterations: number;
    trainImages: number;
    testImages: number;
    nets: number;
    seconds: number;
    outcome: string;
    reason: string;
    finals: { label: string; trainError: number | null }[];
  } | null;
  seconds: number;
}

/** Where each case's GPU time goes: the kernels' summed time beside the measured round, and the top kernels. */
function profileLines(rows: readonly ThroughputRow[]): string[] {
  const profiled = rows.filter((t) => t.profile);
  if (profiled.length === 0) return [];
  return [
    '| GPU time per step (timestamp queries, one net) | kernels, sum | wall time per step | slowest kernels (share of the sum) |',
    '|---|---|---|---|',
    ...profiled.map((t) => {
      const p = t.profile!;
      const sum = p.kernels.reduce((s, k) => s + k.ms, 0);
      const top = p.kernels.slice(0, 5).map((k) => `${k.kernel} ×${k.dispatches} ${((100 * k.ms) / (sum || 1)).toFixed(0)}%`).join(', ');
      return `| ${p.net}, batch ${t.batch} | ${sum.toFixed(2)} ms | ${(t.roundMs / t.nets).toFixed(2)} ms | ${top} |`;
    }),
    '',
  ];
}

const ips = (v: number | undefined | null) => (v == null ? '–' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (lab: number, torch: number | undefined | null) => (torch ? `${(lab / torch).toFixed(2)}×` : '–');

export function reportMarkdown(r: KitReport): string {
  const a = r.adapter;
  const lines = [
    `### GPU kit, ${r.mode} mode, ${r.date.slice(0, 10)}`,
    '',
    `Adapter: **${a.description || a.vendor}** (vendor ${a.vendor}, architecture ${a.architecture || '–'}, device ${a.device || '–'}${a.fallback ? ', software fallback' : ''}). Runtime: ${r.runtime}.${r.torch ? ` PyTorch ${r.torch.torch} on ${r.torch.device}.` : ' PyTorch: not measured.'}`,
    '',
    `Limits the engine uses: ${Object.entries(a.limits).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')}. Timestamp queries: ${a.features.includes('timestamp-query') ? 'yes' : 'no'}.`,
    '',
    '| agreement with the lab CPU engine | steps | checks | worst gap ÷ tolerance | result |',
    '|---|---|---|---|---|',
    ...r.agreement.map((c) => `| ${c.name} | ${c.steps} | ${c.checks} | ${c.worst.ratio.toFixed(2)} (${c.worst.what}) | ${c.failed.length ? `**FAIL**: ${c.failed.slice(0, 3).join('; ')}` : 'pass'} |`),
    '',
    '| throughput (img/s, median round) | batch | lab WebGPU | PyTorch eager | PyTorch compile | lab ÷ eager | lab ÷ compile |',
    '|---|---|---|---|---|---|---|',
    ...r.throughput.map((t) => {
      const torch = r.torch?.rows.find((x) => x.name === t.name);
      return `| ${t.name}${t.nets > 1 ? ` (${t.nets} nets)` : ''} | ${t.batch} | ${ips(t.imagesPerSec)} | ${ips(torch?.eager?.imagesPerSec)} | ${ips(torch?.compiled?.imagesPerSec)}${torch?.note ? ` (${torch.note})` : ''} | ${ratio(t.imagesPerSec, torch?.eager?.imagesPerSec)} | ${ratio(t.imagesPerSec, torch?.compiled?.imagesPerSec)} |`;
    }),
    '',
    ...profileLines(r.throughput),
    r.classroom === null ? 'Classroom preset: not run (--only).' : `Classroom preset on this adapter: ${r.classroom.nets} nets, ${r.classroom.iterations.toLocaleString('en')} iterations, ${r.classroom.trainImages.toLocaleString('en')} training / ${r.classroom.testImages} test images: **${r.classroom.seconds.toFixed(1)} s**, ${r.classroom.outcome}. Final training error: ${r.classroom.finals.map((f) => `${f.label} ${f.trainError === null ? '–' : `${(100 * f.trainError).toFixed(1)}%`}`).join(', ')}.`,
    '',
    `The kit ran for ${r.seconds.toFixed(0)} s (the lab's side).`,
    '',
  ];
  return lines.join('\n');
}
