import { describe, expect, it } from 'vitest';
import { cifarNet } from '../core/nets';
import type { BackendReport } from '../core/backend';
import { SOFTWARE_ADAPTER_NOTE, candidates, fastest, figuresText, largestNet } from './autoChoice';

describe('auto: the engine chosen by measurement', () => {
  it('takes the fastest engine that ran, and the lab CPU engine when none did', () => {
    expect(
      fastest([
        { engine: 'lab-webgpu', imagesPerSec: 2140 },
        { engine: 'lab-cpu', imagesPerSec: 380 },
      ]),
    ).toBe('lab-webgpu');
    expect(
      fastest([
        { engine: 'lab-webgpu', imagesPerSec: 1.2 },
        { engine: 'lab-cpu', imagesPerSec: 380 },
      ]),
    ).toBe('lab-cpu');
    expect(
      fastest([
        { engine: 'lab-webgpu', imagesPerSec: null, note: 'no adapter' },
        { engine: 'lab-cpu', imagesPerSec: 12 },
      ]),
    ).toBe('lab-cpu');
    expect(fastest([{ engine: 'lab-webgpu', imagesPerSec: null }])).toBe('lab-cpu');
  });

  it('writes the figures for the status line, fastest first, then the engines that failed and why', () => {
    expect(
      figuresText([
        { engine: 'lab-cpu', imagesPerSec: 380.4 },
        { engine: 'webgpu', imagesPerSec: null, note: 'device lost' },
        { engine: 'lab-webgpu', imagesPerSec: 2140.2 },
      ]),
    ).toBe('WebGPU 2,140 img/s · CPU 380 img/s · tfjs WebGPU: device lost');
  });

  it('times the GPU engines on a GPU adapter only, and the lab CPU engine always', () => {
    const hw = { active: 'webgpu', software: false } as BackendReport;
    const webgl = { active: 'webgl', software: false } as BackendReport;
    expect(candidates(hw, 'hardware')).toEqual(['lab-webgpu', 'lab-cpu', 'webgpu']);
    expect(candidates(webgl, 'hardware')).toEqual(['lab-webgpu', 'lab-cpu']);
    expect(candidates(hw, 'software')).toEqual(['lab-cpu']);
    expect(candidates(null, 'none')).toEqual(['lab-cpu']);
  });

  it('says why an engine was not timed', () => {
    expect(
      figuresText([
        { engine: 'lab-webgpu', imagesPerSec: null, note: SOFTWARE_ADAPTER_NOTE },
        { engine: 'lab-cpu', imagesPerSec: 229.4 },
      ]),
    ).toBe('CPU 229 img/s · WebGPU: not timed, the only adapter is a software one');
  });

  it('times the experiment’s largest net', () => {
    const specs = [8, 56, 20].map((d) => cifarNet({ n: (d - 2) / 6, residual: d !== 20, shortcut: 'A', width: 0.25 }));
    expect(largestNet(specs).depth).toBe(56);
  });
});
