// The CIFAR nets' exact parameter counts (src/core/nets.ts) against the PyTorch definition the lab
// exports as its full-scale job (bench/reference/lab_train.py --param-counts): basic and bottleneck
// blocks, plain, residual A/B/C and highway nets, at two widths. Needs python3 with torch, as
// scripts/torch-agreement.test.ts: skipped locally without it, failing under CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/core/config';
import { netLabelOf, netsOf } from '../src/core/experimentNets';
import type { ExperimentConfig } from '../src/core/config';
import { cifarNet, paramCount } from '../src/core/nets';
import { learningRate } from '../src/core/schedule';
import type { BlockType, NetFamily, Shortcut } from '../src/core/nets';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const SCRIPT = new URL('../bench/reference/lab_train.py', import.meta.url).pathname;
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

type Spec = [n: number, family: NetFamily, width: number, shortcut: Shortcut, block: BlockType];

const SPECS: Spec[] = [];
for (const block of ['basic', 'bottleneck'] as const) {
  for (const n of [1, 3, 18]) {
    for (const width of [1, 0.25]) {
      SPECS.push([n, 'plain', width, 'A', block], [n, 'highway', width, 'A', block]);
      for (const s of ['A', 'B', 'C'] as const) SPECS.push([n, 'residual', width, s, block]);
    }
  }
}
// the paper's thousand layers (§4.2): ResNet-1202, 19.4M parameters, and the plain net of its depth
SPECS.push([200, 'residual', 1, 'A', 'basic'], [200, 'plain', 1, 'A', 'basic']);

describe('the CIFAR nets against their PyTorch definition', () => {
  it.runIf(hasTorch || process.env.CI)(
    `the same parameter counts for ${SPECS.length} nets: basic and bottleneck, plain, residual A/B/C, highway`,
    () => {
      expect(hasTorch, `${PYTHON} cannot import torch: apt-get install -y python3-torch`).toBe(true);
      const torch = JSON.parse(execFileSync(PYTHON, [SCRIPT, '--param-counts', JSON.stringify(SPECS)], { encoding: 'utf8' })) as number[];
      expect(torch.length).toBe(SPECS.length);
      SPECS.forEach(([n, family, width, shortcut, block], i) => {
        const spec = cifarNet({ n, family, width, shortcut, block });
        expect(paramCount(spec), `${spec.label} at width ${width}`).toBe(torch[i]);
      });
    },
    120_000,
  );

  it.runIf(hasTorch || process.env.CI)(
    'the same nets of an experiment, in the same order, with the same ids and labels',
    () => {
      expect(hasTorch, `${PYTHON} cannot import torch: apt-get install -y python3-torch`).toBe(true);
      const config: ExperimentConfig = {
        ...DEFAULT_CONFIG,
        depths: [8, 11, 20],
        families: ['plain', 'residual', 'highway'],
        shortcuts: ['A', 'C'],
        blocks: ['basic', 'bottleneck'],
        warmup: ['off', 'paper-110'],
        gateBias: [-2, -6],
      };
      const torch = JSON.parse(execFileSync(PYTHON, [SCRIPT, '--nets', JSON.stringify(config)], { encoding: 'utf8' })) as {
        id: string;
        label: string;
        warmup: string;
      }[];
      expect(torch).toEqual(
        netsOf(config).map((e) => ({
          id: e.id,
          label: netLabelOf(e, config),
          warmup: e.warmup,
          ...(e.gateBias !== undefined ? { gateBias: e.gateBias } : {}),
        })),
      );
      expect(torch.length).toBe(4 * 5 * 2); // (8, 20 basic; 11, 20 bottleneck) × (plain, ResNet A and C, highway at 2 gate biases) × 2 warmups
    },
    60_000,
  );

  it.runIf(hasTorch || process.env.CI)(
    'the same learning rates in every warmup mode, also for a net that never leaves the paper’s warmup',
    () => {
      expect(hasTorch, `${PYTHON} cannot import torch: apt-get install -y python3-torch`).toBe(true);
      // 1,000 iterations, an epoch of 600 (so constant and linear warmups outlast the first drop), 95% error throughout
      const program = [
        'import json, os, sys',
        `sys.path.insert(0, os.path.dirname(${JSON.stringify(SCRIPT)}))`,
        'from lab_train import Schedule',
        'out = {}',
        "for mode in ['off', 'paper', 'constant', 'linear']:",
        "    s, rates = Schedule({'lr': 0.1, 'iterations': 1000}, mode, 600), []",
        '    for it in range(1000):',
        '        rates.append(s.at(it))',
        '        s.record(0.95)',
        '    out[mode] = rates',
        'print(json.dumps(out))',
      ].join('\n');
      const torch = JSON.parse(execFileSync(PYTHON, ['-c', program], { encoding: 'utf8' })) as Record<string, number[]>;
      for (const warmup of ['off', 'paper', 'constant', 'linear'] as const) {
        const lab = Array.from({ length: 1000 }, (_, it) => learningRate(it, { lr: 0.1, iterations: 1000, warmup, iterationsPerEpoch: 600 }, null));
        expect(
          torch[warmup].map((x) => x.toPrecision(10)),
          warmup,
        ).toEqual(lab.map((x) => x.toPrecision(10)));
      }
      expect(torch.paper[999]).toBeCloseTo(0.001, 12); // the step schedule's last rate, not the warmup's 0.01
    },
    60_000,
  );
});
