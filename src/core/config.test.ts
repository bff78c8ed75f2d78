import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, CONFIG_URL_KEYS, DEFAULT_CONFIG, SETTINGS, SETTING_ALIASES, configFromQuery, configToQuery, validateConfig } from './config';
import { netLabelOf, netsOf } from './experimentNets';
import type { ExperimentConfig } from './config';
import { ENGINES, ENGINE_NAMES } from './train';

const custom: ExperimentConfig = {
  depths: [8, 20, 110],
  families: ['residual'],
  shortcuts: ['A', 'C'],
  blocks: ['basic'],
  warmup: ['paper'],
  gateBias: [-2, -6],
  lr: 0.05,
  batchSize: 64,
  iterations: 777,
  trainSize: 10_000,
  testSize: 500,
  split: 'paper',
  augment: false,
  width: 0.5,
  evalEvery: 50,
  seed: 123456,
  backend: 'lab-cpu',
};

describe('config codec', () => {
  it.each([
    ['defaults', DEFAULT_CONFIG],
    ['a custom config', custom],
  ])('round-trips %s through a URL query string', (_n, config) => {
    const { config: back, issues } = configFromQuery(configToQuery(config));
    expect(issues).toEqual([]);
    expect(back).toEqual(config);
  });

  it.each([
    ['defaults', DEFAULT_CONFIG],
    ['a custom config', custom],
  ])('round-trips %s through JSON', (_n, config) => {
    const { config: back, issues } = validateConfig(JSON.parse(JSON.stringify(config)));
    expect(issues).toEqual([]);
    expect(back).toEqual(config);
  });

  it('reads old links that say shortcut= (now shortcuts=) and writes the new key', () => {
    const { config, issues } = configFromQuery('?depths=20&shortcut=B,A');
    expect(issues).toEqual([]);
    expect(config.shortcuts).toEqual(['A', 'B']);
    expect(configToQuery(config)).toContain('shortcuts=A%2CB');
    expect(configToQuery(config)).not.toContain('shortcut=');
    // the new key wins when a link has both
    expect(configFromQuery('?shortcuts=C&shortcut=A').config.shortcuts).toEqual(['C']);
  });

  it("names every setting once: its key in kebab case, in the URL as in the runner's flags", () => {
    expect(configToQuery(DEFAULT_CONFIG)).toBe(
      'depths=20%2C56&families=plain%2Cresidual&shortcuts=A&blocks=basic&warmup=off&gate-bias=-2&lr=0.1&batch-size=128&iterations=2000&train-size=50000&test-size=1000&split=test&augment=1&width=1&eval-every=100&seed=1&backend=auto',
    );
    expect(SETTINGS.map((s) => s.name)).toEqual(CONFIG_KEYS.map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)));
    for (const s of SETTINGS) expect(s.help.length, s.name).toBeGreaterThan(10);
  });

  it('still reads every older name (the alias table), so shared links keep working', () => {
    expect(SETTING_ALIASES).toEqual({
      shortcut: 'shortcuts',
      block: 'blocks',
      gatebias: 'gate-bias',
      batch: 'batch-size',
      iters: 'iterations',
      train: 'train-size',
      test: 'test-size',
      aug: 'augment',
      eval: 'eval-every',
    });
    const old = 'depths=8,20&families=both&shortcut=B&block=basic&gatebias=-6&batch=64&iters=700&train=2000&test=500&aug=0&eval=25';
    const now =
      'depths=8,20&families=plain,residual&shortcuts=B&blocks=basic&gate-bias=-6&batch-size=64&iterations=700&train-size=2000&test-size=500&augment=0&eval-every=25';
    expect(configFromQuery(old).issues).toEqual([]);
    expect(configFromQuery(old).config).toEqual(configFromQuery(now).config);
    expect(configFromQuery(now).config).toMatchObject({
      shortcuts: ['B'],
      gateBias: [-6],
      batchSize: 64,
      iterations: 700,
      trainSize: 2000,
      testSize: 500,
      augment: false,
      evalEvery: 25,
    });
    // every name, old or new, marks a link as a link to an experiment
    for (const k of [...Object.keys(SETTING_ALIASES), ...SETTINGS.map((s) => s.name)]) expect(CONFIG_URL_KEYS).toContain(k);
  });

  const bad: [keyof ExperimentConfig, unknown, RegExp][] = [
    ['depths', '20,21', /depths: "21" is not a CIFAR net depth/],
    ['families', 'deep', /families: "deep" is not one of plain, residual, highway \(or both\)/],
    ['shortcuts', 'D', /shortcuts: "D" is not a shortcut option/],
    ['blocks', 'wide', /blocks: "wide" is not a block type \(basic, bottleneck\)/],
    ['warmup', 'slow', /warmup: "slow" is not a warmup mode \(off, paper, paper-110, constant, linear\)/],
    ['gateBias', 'open', /gateBias: "open" is not a number \(highway gate bias\)/],
    ['lr', 'fast', /lr: "fast" is not a number/],
    ['batchSize', 'big', /batchSize: "big" is not a number/],
    ['iterations', 'x', /iterations: "x" is not a number/],
    ['trainSize', '', /trainSize: "" is not a number/],
    ['testSize', 'all', /testSize: "all" is not a number/],
    ['split', '90/10', /split: "90\/10" is not one of test, paper/],
    ['augment', 'maybe', /augment: "maybe" is not on\/off/],
    ['width', 'wide', /width: "wide" is not a number/],
    ['evalEvery', '-', /evalEvery: "-" is not a number/],
    ['seed', 'abc', /seed: "abc" is not a number/],
    ['backend', 'tpu', /backend: "tpu" is not one of auto, lab-webgpu, webgpu, webgl, lab-cpu, cpu/],
  ];

  it('has a rejection case for every field', () => {
    expect(bad.map((b) => b[0]).sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it.each(bad)('rejects a bad %s, naming the field, and keeps the default', (field, value, message) => {
    const { config, issues } = validateConfig({ [field]: value });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ field, level: 'error' });
    expect(issues[0].message).toMatch(message);
    expect(config[field]).toEqual(DEFAULT_CONFIG[field]);
  });

  it('clamps out-of-range numbers with a warning that names the field', () => {
    const { config, issues } = configFromQuery('batch=100000&width=0.3&lr=99');
    expect(config.batchSize).toBe(512);
    expect(config.width).toBe(0.25);
    expect(config.lr).toBe(10);
    expect(issues.map((i) => `${i.level} ${i.message}`)).toEqual([
      'warning lr: 99 is outside 0.00001–10; using 10',
      'warning batchSize: 100000 is outside 2–512; using 512',
      'warning width: 0.3 is not a multiple of 0.25 (filters must be multiples of 4); using 0.25',
    ]);
  });

  it('rejects a config that is not an object', () => {
    expect(validateConfig('depths=20').issues[0].message).toBe('the configuration is not an object');
  });
});

describe('netsOf', () => {
  it('pairs a plain and a residual net per depth, one residual net per shortcut option', () => {
    expect(netsOf({ ...DEFAULT_CONFIG, depths: [20, 56], shortcuts: ['A', 'B'] }).map((n) => n.id)).toEqual([
      'plain-20',
      'resnet-20-A',
      'resnet-20-B',
      'plain-56',
      'resnet-56-A',
      'resnet-56-B',
    ]);
    expect(netsOf({ ...DEFAULT_CONFIG, families: ['plain'] }).map((n) => n.id)).toEqual(['plain-20', 'plain-56']);
  });

  it('adds a highway net per depth, builds each depth with every block type it fits, and one net per warmup variant', () => {
    expect(netsOf({ ...DEFAULT_CONFIG, depths: [20], families: ['plain', 'residual', 'highway'] }).map((n) => n.id)).toEqual([
      'plain-20',
      'resnet-20-A',
      'highway-20',
    ]);
    // 20 = 6·3+2 = 9·2+2 fits both; 29 only bottlenecks; 32 only basic blocks
    expect(
      netsOf({ ...DEFAULT_CONFIG, depths: [20, 29, 32], families: ['residual'], blocks: ['basic', 'bottleneck'] }).map((n) => `${n.id}:${n.block}`),
    ).toEqual(['resnet-20-A:basic', 'resnet-20-A-bottleneck:bottleneck', 'resnet-29-A-bottleneck:bottleneck', 'resnet-32-A:basic']);
    const warm = netsOf({ ...DEFAULT_CONFIG, depths: [110], families: ['residual'], warmup: ['off', 'paper'] });
    expect(warm.map((n) => [n.id, n.warmup])).toEqual([
      ['resnet-110-A-warmup-off', 'off'],
      ['resnet-110-A-warmup-paper', 'paper'],
    ]);
    expect(warm.map((n) => netLabelOf(n, { width: 1, warmup: ['off', 'paper'] }))).toEqual(['ResNet-110, warmup off', 'ResNet-110, warmup paper']);
  });
});

describe('the fields of bottlenecks, highway nets and warmup variants', () => {
  it('reads old links and saved configs: families=both, one warmup as a word', () => {
    const { config, issues } = configFromQuery('families=both&warmup=paper');
    expect(issues).toEqual([]);
    expect(config.families).toEqual(['plain', 'residual']);
    expect(config.warmup).toEqual(['paper']);
    expect(validateConfig({ families: 'residual', warmup: 'paper-110' }).config).toMatchObject({
      families: ['residual'],
      warmup: ['paper-110'],
      blocks: ['basic'],
    });
  });

  it('round-trips the new fields through a link', () => {
    const c: ExperimentConfig = { ...DEFAULT_CONFIG, depths: [29, 56], families: ['plain', 'highway'], blocks: ['bottleneck'], warmup: ['off', 'linear'] };
    expect(configToQuery(c)).toContain('blocks=bottleneck');
    expect(configFromQuery(configToQuery(c))).toEqual({ config: c, issues: [] });
  });

  it('refuses a depth that fits none of the chosen block types, naming the rule', () => {
    const { config, issues } = validateConfig({ depths: [20, 29], blocks: ['basic'] });
    expect(issues).toEqual([
      {
        field: 'depths',
        level: 'error',
        message: 'depths: 29 fits none of the chosen block types (basic blocks take 6n+2 (8, 14, 20, 32, 44, 56, 110, 164, 1202))',
      },
    ]);
    expect(config.depths).toEqual([20]);
    expect(validateConfig({ depths: [29, 164], blocks: ['bottleneck'] }).issues).toEqual([]);
    expect(configFromQuery('depths=1208').issues[0].message).toMatch(
      /depths: "1208" is not a CIFAR net depth \(6n\+2 from 8 to 1202: .*9n\+2 for bottlenecks, to 164/,
    );
    expect(configFromQuery('depths=1202').issues).toEqual([]);
  });

  it('takes the highway gate bias as a list, one highway net per value, clamped to −10…0 with a warning', () => {
    const { config, issues } = configFromQuery('families=plain,highway&depths=20&gatebias=-6,-2,-6,3');
    expect(config.gateBias).toEqual([0, -2, -6]);
    expect(issues.map((i) => i.message)).toEqual(['gateBias: 3 is outside -10–0; using 0']);
    const nets = netsOf({ ...DEFAULT_CONFIG, depths: [20], families: ['highway'], gateBias: [-2, -6] });
    expect(nets.map((n) => [n.id, n.gateBias])).toEqual([
      ['highway-20-gate-2', -2],
      ['highway-20-gate-6', -6],
    ]);
    expect(nets.map((n) => netLabelOf(n, { ...DEFAULT_CONFIG, gateBias: [-2, -6] }))).toEqual(['Highway-20 (gate bias -2)', 'Highway-20 (gate bias -6)']);
    // one bias keeps the old ids and labels, so older runs and links read as before
    expect(netsOf({ ...DEFAULT_CONFIG, depths: [20], families: ['highway'], gateBias: [-6] }).map((n) => n.id)).toEqual(['highway-20']);
  });

  it('makes B the default shortcut of bottleneck nets, and notes option A’s zero-padded channels where it is chosen', () => {
    expect(configFromQuery('blocks=bottleneck&depths=29').config.shortcuts).toEqual(['B']);
    const chosen = configFromQuery('blocks=bottleneck&depths=29&shortcuts=A');
    expect(chosen.config.shortcuts).toEqual(['A']);
    expect(chosen.issues.find((i) => i.field === 'shortcuts')?.message).toMatch(/48 of its 64 channels have no identity path/);
    // basic nets keep A, the paper's CIFAR option, without a note
    const basic = configFromQuery('depths=20');
    expect(basic.config.shortcuts).toEqual(['A']);
    expect(basic.issues).toEqual([]);
  });
});

describe('the engine table', () => {
  it('gives the choices a config offers, in the form’s order, and every engine a different one to resume on', () => {
    expect(ENGINE_NAMES.filter((e) => ENGINES[e].choice)).toEqual(['lab-webgpu', 'webgpu', 'webgl', 'lab-cpu', 'cpu']);
    for (const e of ENGINE_NAMES) {
      expect(ENGINES[e].next, e).not.toBe(e);
      expect(ENGINES[ENGINES[e].next].choice, e).toBe(true);
      expect(validateConfig({ ...DEFAULT_CONFIG, backend: e }).issues.length === 0, e).toBe(ENGINES[e].choice);
    }
  });
});
