// The command lines' vocabulary: every setting is a flag named as in the URL, older names still read,
// --help lists them with ranges and defaults, and a mistake is one line with exit code 2.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS, SETTING_ALIASES, configToQuery } from '../src/core/config';
import { FULL_LESSON, PRESETS, PRESET_IDS } from '../src/core/presets';
import { CliError, editDistance, parseCli } from './cli';
import { configFromCli, experimentCommand } from './experimentCli';

const ROOT = join(import.meta.dirname, '..');
const parse = (argv: string[]) => {
  const r = parseCli(experimentCommand(), argv);
  if ('help' in r) throw new Error('unexpected help');
  return configFromCli(r.opts, () => '{}');
};
/** A share link's settings as runner flags, unchanged: k=v → --k v. */
const flagsOf = (query: string) => [...new URLSearchParams(query)].flatMap(([k, v]) => [`--${k}`, v]);

describe('one vocabulary for the URL and the runner', () => {
  it("runs every preset's share link unchanged as flags", () => {
    for (const p of PRESETS) expect(parse(flagsOf(configToQuery(p.config))).config, p.id).toEqual(p.config);
  });

  it("runs the Full lesson by name, from the page's link, and with a flag after it", () => {
    expect(parse(['--preset', 'full']).config).toEqual(FULL_LESSON);
    expect(parse(flagsOf(configToQuery(FULL_LESSON))).config).toEqual(FULL_LESSON);
    // a flag after the preset changes that setting only
    expect(parse(['--preset', 'full', '--seed', '2']).config).toEqual({ ...FULL_LESSON, seed: 2 });
    // what makes it the Full lesson: more images than the Classroom memorises, augmented, tested on 2,000
    expect(FULL_LESSON).toMatchObject({ trainSize: 5000, augment: true, testSize: 2000, depths: [8, 56] });
  });

  it('reads the older names as flags, as old links and scripts say them; the name wins over an older name', () => {
    const oldLink = 'iters=700&train=10000&test=500&aug=0&eval=25&batch=64&gatebias=-6&shortcut=B&block=basic';
    expect(parse(flagsOf(oldLink)).config).toMatchObject({
      iterations: 700,
      trainSize: 10_000,
      testSize: 500,
      augment: false,
      evalEvery: 25,
      batchSize: 64,
      gateBias: [-6],
      shortcuts: ['B'],
    });
    expect(parse(['--train', '100', '--train-size', '3000']).config.trainSize).toBe(3000);
    for (const alias of Object.keys(SETTING_ALIASES)) expect(() => parse([`--${alias}`, 'x']), alias).toThrow(CliError);
  });

  it('--help lists every flag with its range and default', () => {
    const r = parseCli(experimentCommand(), ['--help']);
    if (!('help' in r)) throw new Error('no help');
    for (const s of SETTINGS) {
      const line = r.help.slice(r.help.indexOf(`--${s.name} <value>`));
      expect(line, s.name).not.toBe(r.help.slice(-1));
      expect(line.slice(0, 400).replace(/\s+/g, ' '), s.name).toContain(`(default ${s.defaultText}`);
    }
    expect(r.help).toMatch(/--iterations <value> +training iterations \(SGD steps\), 1–200000/);
    for (const id of PRESET_IDS) expect(r.help).toContain(id);
  });

  it('names an unknown flag and the nearest valid one, in one line', () => {
    const cases: [string, string][] = [
      ['--trian', "unknown option '--trian' (the nearest is --train-size (or its older name --train)"],
      ['--iteration', "unknown option '--iteration' (the nearest is --iterations;"],
      ['--eval-evry', "unknown option '--eval-evry' (the nearest is --eval-every;"],
      ['--sed', "unknown option '--sed' (the nearest is --seed;"],
    ];
    for (const [flag, message] of cases) {
      let err: unknown;
      try {
        parse([flag, '1']);
      } catch (e) {
        err = e;
      }
      expect(err, flag).toBeInstanceOf(CliError);
      expect((err as Error).message, flag).toContain(message);
      expect((err as Error).message, flag).not.toContain('\n');
    }
    expect(editDistance('trian', 'train')).toBe(1);
    expect(editDistance('seed', 'seeds')).toBe(1);
  });

  it('names a bad value with its flag and the range', () => {
    expect(() => parse(['--iterations', 'lots'])).toThrow('--iterations "lots" is not a number (iterations)');
    expect(() => parse(['--depths', '20,21'])).toThrow(/--depths "21" is not a CIFAR net depth/);
    expect(() => parse(['--preset', 'nope'])).toThrow(`--preset: "nope" is not a preset (${PRESET_IDS.join(', ')})`);
  });

  it('the real command lines: --help exits 0; a mistake is one line on stderr with exit code 2, no stack trace', () => {
    const run = (script: string, argv: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, script), ...argv], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const help = run('scripts/experiment.ts', ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--train-size <value>');
    for (const argv of [
      ['--train', '10000', '--trian', '3'],
      ['--iterations', 'x'],
      ['--preset', 'nope'],
    ]) {
      const r = run('scripts/experiment.ts', argv);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^experiment: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const bench = run('bench/run.ts', ['--bach', '32']);
    expect(bench.status).toBe(2);
    expect(bench.stderr.trim()).toBe("bench: unknown option '--bach' (the nearest is --batch-size; --help lists them all)");
    expect(run('bench/run.ts', ['--help']).stdout).toContain('--batch-size <list>');
  }, 120_000);
});

describe('no literal lists of presets', () => {
  /** Every .ts/.tsx file under src/, tests aside. */
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) =>
      statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f) ? [join(dir, f)] : [],
    );
  // ids that name nothing else in the lab (shortcuts, bottleneck and highway are also words and families)
  const own = ['classroom', 'fig6', 'warmup110'];
  const id = `(?:${PRESET_IDS.join('|')})`;
  const listed = new RegExp(`\\b${id}\\b['"\`]?\\s*(?:,|\\||/|or|and)\\s*['"\`]?\\b${id}\\b`, 'g');

  it('finds none in src/ outside the table (messages list presets from PRESETS)', () => {
    const found: string[] = [];
    for (const f of files(join(ROOT, 'src'))) {
      if (f.endsWith(join('core', 'presets.ts'))) continue;
      for (const m of readFileSync(f, 'utf8').matchAll(listed)) if (own.some((o) => m[0].includes(o))) found.push(`${f.slice(ROOT.length + 1)}: ${m[0]}`);
    }
    expect(found).toEqual([]);
  });

  it('would find one (the scan works)', () => {
    expect('is not a preset (classroom, fig6, shortcuts, warmup110)'.match(listed)?.length).toBeGreaterThan(0);
    expect("type Id = 'classroom' | 'fig6'".match(listed)?.length).toBeGreaterThan(0);
  });
});
