// The ImageNet ResNets' exact parameter and multiply-add counts (src/core/imagenet.ts) against the
// PyTorch definitions of bench/reference/imagenet_resnet.py, which count their own parameters and
// hook every convolution. Needs python3 with torch, as scripts/torch-agreement.test.ts: skipped
// locally without it, failing under CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { IMAGENET_DEPTHS, imagenetResNet } from '../src/core/imagenet';
import type { StrideAt } from '../src/core/imagenet';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const SCRIPT = new URL('../bench/reference/imagenet_resnet.py', import.meta.url).pathname;
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

describe('the ImageNet ResNets against their PyTorch definitions', () => {
  it.runIf(hasTorch || process.env.CI).each(['paper', 'torchvision'] as StrideAt[])(
    'the same parameters and multiply-adds, stride at the %s position',
    (strideAt) => {
      expect(hasTorch, `${PYTHON} cannot import torch: apt-get install -y python3-torch`).toBe(true);
      const torch = JSON.parse(execFileSync(PYTHON, [SCRIPT, '--stride-at', strideAt], { encoding: 'utf8' })) as Record<
        string,
        { params: number; multiply_adds: number }
      >;
      for (const depth of IMAGENET_DEPTHS) {
        const lab = imagenetResNet(depth, strideAt);
        expect(lab.params, `ResNet-${depth} parameters`).toBe(torch[depth].params);
        expect(lab.multiplyAdds, `ResNet-${depth} multiply-adds`).toBe(torch[depth].multiply_adds);
      }
    },
    120_000,
  );
});
