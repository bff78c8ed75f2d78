import { describe, expect, it } from 'vitest';
import { describeWebGpuAdapter, probeBackends } from './backend';

describe('describeWebGpuAdapter', () => {
  it('names SwiftShader as a software fallback adapter', () => {
    const d = describeWebGpuAdapter({
      info: { vendor: 'google', architecture: 'swiftshader', description: '', isFallbackAdapter: true },
    });
    expect(d).toEqual({ adapter: 'google swiftshader (fallback adapter)', software: true });
  });

  it('treats a named discrete GPU as hardware', () => {
    const d = describeWebGpuAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: false } });
    expect(d).toEqual({ adapter: 'nvidia hopper', software: false });
  });
});

describe('probeBackends in Node', () => {
  it('falls through WebGPU and WebGL to CPU, saying why each was skipped', async () => {
    const report = await probeBackends();
    expect(report.active).toBe('cpu');
    expect(report.attempts.map((a) => [a.name, a.ok])).toEqual([
      ['webgpu', false],
      ['webgl', false],
      ['cpu', true],
    ]);
    expect(report.attempts[0].reason).toMatch(/navigator\.gpu is missing/);
    expect(report.attempts[1].reason).toMatch(/OffscreenCanvas/);
  });
});
