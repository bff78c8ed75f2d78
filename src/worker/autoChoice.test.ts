import { describe, expect, it } from 'vitest';
import { cifarNet } from '../core/nets';
import type { BackendReport } from '../core/backend';
import { candidates, fastest, figuresText, largestNet } from './autoChoice';

describe('auto: the engine chosen by measurement', () => {
  it('takes the fastest engine that ran, and the lab CPU engine when none did', () => {
    expect(fastest([{ engine: 'lab-webgpu', imagesPerSec: 2140 }, { engine: 'lab-cpu', imagesPerSec: 380 }])).toBe('lab-webgpu');
    expect(fastest([{ engine: 'lab-webgpu', imagesPerSec: 1.2 }, { engine: 'lab-cpu', imagesPerSec: 380 }])).toBe('lab-cpu');
    expect(fastest([{ engine: 'lab-webgpu', imagesPerSec: null, note: 'no adapter' }, { engine: 'lab-cpu', imagesPerSec: 12 }])).toBe('lab-cpu');
    expect(fastest([{ engine: 'lab-webgpu', imagesPerSec: null }])).toBe('lab-cpu');
  });

  it('writes the figures for the status line, fastest first, leaving out engines that failed', () => {
    expect(
      figuresText([
        { engine: 'lab-cpu', imagesPerSec: 380.4 },
        { engine: 'lab-webgpu', imagesPerSec: 2140.2 },
        { engine: 'webgpu', imagesPerSec: null, note: 'device lost' },
      ]),
    ).toBe('WebGPU 2,140 img/s · CPU 380 img/s');
  });

  it('measures tfjs WebGPU only on a hardware adapter, and the lab WebGPU engine wherever WebGPU exists', () => {
    const hw = { active: 'webgpu', software: false } as BackendReport;
    const sw = { active: 'webgpu', software: true } as BackendReport;
    expect(candidates(hw, true)).toEqual(['lab-webgpu', 'lab-cpu', 'webgpu']);
    expect(candidates(sw, true)).toEqual(['lab-webgpu', 'lab-cpu']);
    expect(candidates(null, false)).toEqual(['lab-cpu']);
  });

  it('times the experiment’s largest net', () => {
    const specs = [8, 56, 20].map((d) => cifarNet({ n: (d - 2) / 6, residual: d !== 20, shortcut: 'A', width: 0.25 }));
    expect(largestNet(specs).depth).toBe(56);
  });
});
