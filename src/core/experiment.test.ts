import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config';
import type { ExperimentConfig } from './config';
import { LabCpuEngine } from './cpu/engine';
import { nodeKernels } from './cpu/testing/nodeKernels';
import { datasetFromFiles } from './data/cifar10';
import { makeBin } from './data/testing/fixtures';
import { Experiment } from './experiment';
import type { ExperimentData } from './experiment';
import type { Engine, EngineNet, ImageBatch } from './train';
import { responseImages } from './train';

const ds = datasetFromFiles(
  new Map([
    ['data_batch_1.bin', makeBin(64, 1)],
    ['test_batch.bin', makeBin(16, 2)],
  ]),
  'fixture',
  'fixture',
);
const data: ExperimentData = { train: ds.train, test: ds.test };

const tiny: ExperimentConfig = {
  ...DEFAULT_CONFIG,
  depths: [8, 14],
  families: ['plain', 'residual'],
  shortcuts: ['A'],
  width: 0.25,
  batchSize: 8,
  iterations: 12,
  trainSize: 64,
  testSize: 16,
  evalEvery: 4,
  seed: 5,
};

/** A checksum of a batch's pixels and labels. */
function fingerprint(b: ImageBatch): string {
  let h = 0;
  for (let i = 0; i < b.size * 3072; i += 97) h = (h * 31 + Math.round(b.x[i] * 1000)) | 0;
  return `${h}:${Array.from(b.labels).join('')}`;
}

/** Wraps an engine, recording which batch each net trained on, and optionally sabotaging one net. */
class RecordingEngine implements Engine {
  readonly name;
  current = '';
  readonly seen = new Map<string, string[]>();
  constructor(
    private readonly inner: Engine,
    private readonly sabotage?: { label: string; fromStep: number },
  ) {
    this.name = inner.name;
  }
  setBatch(b: ImageBatch) {
    this.current = fingerprint(b);
    this.inner.setBatch(b);
  }
  createNet(...args: Parameters<Engine['createNet']>): EngineNet {
    const net = this.inner.createNet(...args);
    const label = args[0].label;
    const seen: string[] = [];
    this.seen.set(label, seen);
    const step = net.step.bind(net);
    net.step = async (lr, g) => {
      seen.push(this.current);
      const r = await step(lr, g);
      return this.sabotage?.label === label && seen.length >= this.sabotage.fromStep ? { ...r, loss: NaN } : r;
    };
    return net;
  }
  memory() {
    return this.inner.memory();
  }
  dispose() {
    this.inner.dispose();
  }
}

const lab = async () => LabCpuEngine.create({ ...nodeKernels(), threads: 1 });

async function run(config: ExperimentConfig, rounds: number, engine: Engine) {
  const exp = new Experiment(config, data, engine);
  exp.start();
  for (let r = 0; r < rounds; r++) await exp.round();
  return exp;
}

describe('paired experiments', () => {
  it('every net sees the same batch sequence', async () => {
    const engine = new RecordingEngine(await lab());
    const exp = await run(tiny, 5, engine);
    const sequences = [...engine.seen.values()];
    expect(sequences).toHaveLength(4);
    expect(new Set(sequences[0]).size).toBe(5); // five different batches…
    for (const s of sequences) expect(s).toEqual(sequences[0]); // …the same for every net
    exp.dispose();
  });

  it('starts the plain and residual nets of one depth from identical weights', async () => {
    const exp = await run(tiny, 0, await lab());
    const [plain, res] = [exp['nets'][0], exp['nets'][1]];
    expect([plain.info.label, res.info.label]).toEqual(['plain-8', 'ResNet-8']);
    const [a, b] = [await plain.trainer.net.getState(), await res.trainer.net.getState()];
    expect(Object.keys(a.params).length).toBeGreaterThan(10);
    for (const k of Object.keys(a.params)) expect(b.params[k]).toEqual(a.params[k]);
    exp.dispose();
  });

  it('gives the same batches across a pause (checkpoint) and resume', async () => {
    const straight = new RecordingEngine(await lab());
    (await run(tiny, 6, straight)).dispose();
    const first = new RecordingEngine(await lab());
    const a = await run(tiny, 3, first);
    const checkpoint = await a.checkpoint();
    a.dispose();
    const second = new RecordingEngine(await lab());
    const b = new Experiment(tiny, data, second);
    b.start(checkpoint);
    for (let r = 0; r < 3; r++) await b.round();
    for (const [label, seq] of straight.seen) expect([...first.seen.get(label)!, ...second.seen.get(label)!]).toEqual(seq);
    b.dispose();
  });

  it('continues from a checkpoint with exactly the loss an uninterrupted run gives', async () => {
    const straight = await run(tiny, 6, await lab());
    const want = straight.takeDelta().nets;
    const a = await run(tiny, 5, await lab());
    const before = a.takeDelta().nets;
    const checkpoint = await a.checkpoint();
    a.dispose();
    const b = new Experiment(tiny, data, await lab());
    b.start(checkpoint);
    await b.round();
    const got = b.takeDelta().nets;
    for (const id of Object.keys(want)) {
      expect(before[id].train.it).toEqual([1, 2, 3, 4, 5]);
      expect(got[id].train.it).toEqual([6]);
      expect(got[id].train.loss[0]).toBe(want[id].train.loss[5]);
      expect(got[id].train.runErr[0]).toBe(want[id].train.runErr[5]);
    }
    b.dispose();
    straight.dispose();
  });

  it('marks a diverged net at its iteration and keeps training the others', async () => {
    const engine = new RecordingEngine(await lab(), { label: 'plain-14', fromStep: 3 });
    const exp = await run(tiny, 12, engine);
    const infos = exp.infos();
    expect(infos.find((i) => i.id === 'plain-14')).toMatchObject({ status: 'diverged', divergedAt: 2 });
    for (const i of infos.filter((x) => x.id !== 'plain-14')) expect(i.status).toBe('done');
    expect(engine.seen.get('plain-14')).toHaveLength(3);
    expect(engine.seen.get('ResNet-14')).toHaveLength(12);
    expect(exp.active).toBe(false);
    exp.dispose();
  });

  it('records test error, layer responses and gradient norms at every evaluation interval', async () => {
    const exp = await run(tiny, 8, await lab());
    const d = exp.takeDelta();
    const s = d.nets['resnet-14-A'];
    expect(s.test.it).toEqual([0, 4, 8]);
    expect(s.taps.map((t) => t.it)).toEqual([0, 4, 8]);
    expect(s.taps[1].layerStd).toHaveLength(13); // 6n+1 3×3 layers for n = 2
    expect(s.taps[1].gradNorms).toHaveLength(14); // and the FC layer
    expect(s.taps[1].gradNorms.every((g) => g > 0)).toBe(true);
    // the images the engine measured the responses on: all 16 of this test subset, as the captions then say
    expect(s.taps.map((t) => t.images)).toEqual([16, 16, 16]);
    expect(responseImages(tiny.testSize, d.nets)).toBe(16);
    expect(d.progress).toMatchObject({ iteration: 8, iterations: 12 });
    expect(d.progress.imagesPerSec).toBeGreaterThan(0);
    exp.dispose();
  });

  it('records no number that overflows: a test loss as null, Fig. 7 (a) left out, a tap with a non-finite readout skipped', async () => {
    const inner = await lab();
    // an engine whose evaluations overflow as ResNet-1202's first test does
    const overflowing: Engine = {
      name: inner.name,
      setBatch: (b) => inner.setBatch(b),
      memory: () => inner.memory(),
      dispose: () => inner.dispose(),
      createNet(spec, state) {
        const net = inner.createNet(spec, state);
        let calls = 0;
        return Object.assign(Object.create(net) as EngineNet, {
          step: (lr: number, g?: boolean) => net.step(lr, g),
          async evaluate(batch: ImageBatch) {
            const r = await net.evaluate(batch);
            calls++;
            if (calls === 1) return { ...r, loss: Number.NaN, layerStdEval: r.layerStdEval.map((v, i) => (i === 3 ? Number.POSITIVE_INFINITY : v)) };
            if (calls === 2) return { ...r, layerStd: r.layerStd.map(() => Number.NaN) };
            return r;
          },
        });
      },
    };
    const exp = await run({ ...tiny, depths: [8], families: ['residual'] }, 8, overflowing);
    const s = exp.takeDelta().nets['resnet-8-A'];
    expect(s.test.it).toEqual([0, 4, 8]);
    expect(s.test.loss[0]).toBeNull();
    expect(s.test.loss.slice(1).every((l) => typeof l === 'number' && Number.isFinite(l))).toBe(true);
    // iteration 0: the readout kept, (a) left out; iteration 4: no tap at all; iteration 8: whole
    expect(s.taps.map((t) => [t.it, 'layerStdEval' in t])).toEqual([
      [0, false],
      [8, true],
    ]);
    exp.dispose();
  });

  it('hands a why-view a net by id, and the first training images without augmentation, normalised as training does', async () => {
    const exp = await run(tiny, 4, await lab());
    const net = exp.net('resnet-14-A')!;
    expect(net.spec.label).toBe('ResNet-14');
    expect(exp.net('resnet-1202-A')).toBeUndefined();
    const sample = exp.imageSample(20);
    expect(sample.size).toBe(20);
    expect(Array.from(sample.labels)).toEqual(Array.from(ds.train.labels.subarray(0, 20)));
    // the same images each time (no augmentation), normalised: mean near 0 over the training subset's pixels
    expect(fingerprint(exp.imageSample(20))).toBe(fingerprint(sample));
    expect(exp.imageSample(1000).size).toBe(64);
    const mean = exp.imageSample(64).x.reduce((a, v) => a + v, 0) / (64 * 3072);
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    exp.dispose();
  });

  it('adds a net to a running experiment at iteration 0, on the same batch sequence', async () => {
    const engine = new RecordingEngine(await lab());
    const exp = await run({ ...tiny, families: ['plain'], depths: [8] }, 3, engine);
    exp.addNet({ id: 'resnet-8-B', depth: 8, family: 'residual', residual: true, shortcut: 'B', block: 'basic', warmup: 'off' });
    for (let r = 0; r < 9; r++) await exp.round();
    const plain = engine.seen.get('plain-8')!;
    const late = engine.seen.get('ResNet-8 (B)')!;
    expect(plain).toHaveLength(12);
    expect(late).toHaveLength(9);
    expect(late).toEqual(plain.slice(0, 9));
    exp.dispose();
  });
});

describe('variants side by side', () => {
  it('trains warmup variants of one net from the same weights on the same batches, each at its own learning rates', async () => {
    const engine = await lab();
    const exp = new Experiment({ ...tiny, depths: [8], families: ['residual'], warmup: ['off', 'constant'], iterations: 40 }, data, engine);
    exp.start();
    while (await exp.round());
    const { nets, infos } = exp.takeDelta();
    expect(infos.map((i) => [i.id, i.label, i.warmup])).toEqual([
      ['resnet-8-A-warmup-off', 'ResNet-8, warmup off', 'off'],
      ['resnet-8-A-warmup-constant', 'ResNet-8, warmup constant', 'constant'],
    ]);
    const [off, warm] = [nets['resnet-8-A-warmup-off'].train, nets['resnet-8-A-warmup-constant'].train];
    // the same first loss (same weights, same batch), then apart: one epoch (8 iterations) at lr/10
    expect(warm.loss[0]).toBe(off.loss[0]);
    expect(warm.loss[1]).not.toBe(off.loss[1]);
    expect(off.lr.slice(0, 8)).toEqual(new Array(8).fill(0.1));
    expect(warm.lr.slice(0, 8).map((x) => Number(x.toPrecision(6)))).toEqual(new Array(8).fill(0.01));
    expect(warm.lr[8]).toBe(0.1);
    engine.dispose();
  });

  it('trains highway and bottleneck nets beside plain and residual ones, recording gate means at each evaluation', async () => {
    const engine = await lab();
    const exp = new Experiment(
      { ...tiny, depths: [8, 11], families: ['plain', 'residual', 'highway'], blocks: ['basic', 'bottleneck'], iterations: 8 },
      data,
      engine,
    );
    exp.start();
    while (await exp.round());
    const { nets, infos } = exp.takeDelta();
    expect(infos.map((i) => i.id)).toEqual(['plain-8', 'resnet-8-A', 'highway-8', 'plain-11-bottleneck', 'resnet-11-A-bottleneck', 'highway-11-bottleneck']);
    expect(infos.every((i) => i.status === 'done')).toBe(true);
    for (const i of infos) {
      const taps = nets[i.id].taps;
      expect(taps.length).toBeGreaterThan(1);
      if (i.family === 'highway') expect(taps.every((t) => t.gateMeans?.length === 3)).toBe(true);
      else expect(taps.every((t) => t.gateMeans === undefined)).toBe(true);
    }
    engine.dispose();
  });
});

describe('the ETA', () => {
  it('after a few rounds, is the remaining iterations at the run’s own average time per iteration, evaluations included', async () => {
    const config = { ...tiny, iterations: 200, evalEvery: 5 };
    const exp = new Experiment(config, data, await lab());
    exp.start();
    expect(exp.progress().etaMs).toBeNull();
    for (let i = 0; i < 25; i++) await exp.round();
    const p = exp.progress();
    expect(p.iteration).toBe(25);
    expect(p.etaMs).toBeCloseTo((200 - 25) * (p.elapsedMs / 25), 6);
    exp.dispose();
  });

  it('after a resume, counts only the time since the resume: the earlier time may cover iterations trained again', async () => {
    const config = { ...tiny, iterations: 200, evalEvery: 5 };
    const first = new Experiment(config, data, await lab());
    first.start();
    for (let i = 0; i < 10; i++) await first.round();
    const cp = await first.checkpoint();
    first.dispose();
    const resumed = new Experiment(config, data, await lab());
    resumed.start(cp);
    // the saved run's clock says an hour (it trained past its checkpoint, or on a slower machine)
    resumed.restoreElapsed(3_600_000);
    for (let i = 0; i < 25; i++) await resumed.round();
    const p = resumed.progress();
    expect(p.iteration).toBe(35);
    expect(p.elapsedMs).toBeGreaterThan(3_600_000);
    expect(p.etaMs).toBeCloseTo((200 - 35) * ((p.elapsedMs - 3_600_000) / 25), 6);
    // an hour over 35 iterations would have said over 4 hours
    expect(p.etaMs ?? Infinity).toBeLessThan(3_600_000);
    resumed.dispose();
  });
});

/** The lab CPU engine, declared pipelined: its steps run at once, their results are read rounds later. */
class PipelinedEngine implements Engine {
  readonly name;
  constructor(
    private readonly inner: Engine,
    readonly pipelineDepth: number,
  ) {
    this.name = inner.name;
  }
  setBatch(b: ImageBatch) {
    this.inner.setBatch(b);
  }
  createNet(...args: Parameters<Engine['createNet']>): EngineNet {
    return this.inner.createNet(...args);
  }
  // every net's step starts now, on the current batch (LabCpuNet.step computes before its first await)
  stepMany(requests: Parameters<NonNullable<Engine['stepMany']>>[0]) {
    return Promise.all(requests.map((r) => r.net.step(r.lr, r.withGradNorms)));
  }
  memory() {
    return this.inner.memory();
  }
  dispose() {
    this.inner.dispose();
  }
}

describe('pipelined rounds (results read back a few rounds late, as on the lab WebGPU engine)', () => {
  const config: ExperimentConfig = { ...tiny, depths: [8], iterations: 80, evalEvery: 20, lr: 0.1 };
  const runToEnd = async (c: ExperimentConfig, depth: number) => {
    const inner = await lab();
    const exp = new Experiment(c, data, depth ? new PipelinedEngine(inner, depth) : inner);
    exp.start();
    while (await exp.round());
    const delta = exp.takeDelta();
    inner.dispose();
    return delta;
  };

  it('change nothing at a fixed schedule: the same losses, errors, evaluations and learning rates', async () => {
    const c = { ...config, warmup: ['off' as const] };
    const [now, late] = [await runToEnd(c, 0), await runToEnd(c, 3)];
    expect(Object.keys(late.nets).sort()).toEqual(Object.keys(now.nets).sort());
    for (const id of Object.keys(now.nets)) {
      expect(late.nets[id].train).toEqual(now.nets[id].train);
      expect(late.nets[id].test).toEqual(now.nets[id].test);
      expect(now.nets[id].train.it.length).toBe(80);
    }
    expect(late.infos.map((i) => i.status)).toEqual(['done', 'done']);
  });

  it('delay the paper’s warmup switch by at most the depth: the same run until the error falls below 80%, lr 0.01 up to 3 iterations longer', async () => {
    // 64 images, 8 a batch: the nets fit them, so the running error falls below 80% within the run
    const c = { ...config, warmup: ['paper' as const], iterations: 240, evalEvery: 60, augment: false };
    const depth = 3;
    const [now, late] = [await runToEnd(c, 0), await runToEnd(c, depth)];
    for (const id of Object.keys(now.nets)) {
      const a = now.nets[id].train;
      const b = late.nets[id].train;
      const switchA = a.lr.findIndex((lr) => lr === 0.1);
      const switchB = b.lr.findIndex((lr) => lr === 0.1);
      console.log(`${id}: lr 0.1 from iteration ${switchA + 1} read at once, ${switchB + 1} read ${depth} rounds late`);
      // the rule fires in this run (the nets fit 64 images), so the comparison is not vacuous
      expect(switchA, id).toBeGreaterThan(10);
      expect(switchB - switchA, id).toBeGreaterThanOrEqual(1);
      expect(switchB - switchA, id).toBeLessThanOrEqual(depth);
      // identical up to the switch: the same errors decide the same warmup end
      expect(b.loss.slice(0, switchA), id).toEqual(a.loss.slice(0, switchA));
      expect(b.runErr.slice(0, switchA), id).toEqual(a.runErr.slice(0, switchA));
      expect(b.lr.slice(switchB), id).toEqual(a.lr.slice(switchB));
    }
  });
});

describe('the response images a caption names', () => {
  const tap = (it: number, images?: number) => ({ it, layerStd: [1], gradNorms: [1], ...(images ? { images } : {}) });
  it('are what the latest evaluation recorded: fewer than 128 where the engine measured fewer (a thousand layers)', () => {
    expect(responseImages(1000, { a: { taps: [tap(0, 128), tap(100, 64)] }, b: { taps: [tap(50, 128)] } })).toBe(64);
    expect(responseImages(1000, { a: { taps: [tap(0, 64)] }, b: { taps: [tap(50, 128)] } })).toBe(128);
  });
  it('are 128, or a smaller test subset, for a run that recorded none (saved before the engines said, or not evaluated yet)', () => {
    expect(responseImages(1000, { a: { taps: [tap(0)] } })).toBe(128);
    expect(responseImages(50)).toBe(50);
  });
});
