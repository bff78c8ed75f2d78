// The experiment runner's command line (npm run experiment -- --help): its own options, then one flag
// per experiment setting, named as in the page's URL (scripts/cli.ts). Kept apart from
// scripts/experiment.ts so that tests read it without starting a browser.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ExperimentConfig } from '../src/core/config';
import { DEFAULT_CONFIG, configFromQuery, validateConfig } from '../src/core/config';
import { presetById, presetList } from '../src/core/presets';
import { CliError, addSettingFlags, flagOf, newCommand, settingsFromFlags } from './cli';

export function experimentCommand(): Command {
  const cmd = newCommand(
    'experiment',
    "Run a lab experiment headless, with the lab's own worker code in Chromium, and write run.json, metrics.csv, the charts and summary.md with a verdict.",
  )
    .usage('[options]   (npm run experiment -- --preset classroom --out runs/classroom)')
    .argument('[runs...]', 'run files, after --charts-of')
    .option('--preset <id>', `start from a preset: ${presetList()}`)
    .option('--config <file>', 'start from a config or a run file the lab exported')
    .option('--link <url>', 'start from a share link (its settings; flags given after still apply)')
    .option('--data <dir>', 'folder of CIFAR-10 .bin files (default: $CIFAR10_DIR, or the one npm run fetch-data wrote)')
    .option('--out <dir>', 'where to write the run (required to train)')
    .option('--seeds <list>', 'one run per seed, comma-separated (each in <out>/seed-N), and a summary with a row per seed')
    .addOption(
      new Option('--expect-degradation <which>', 'exit 1 unless every seed shows both halves of Fig. 6, or at least the plain half').choices(['both', 'plain']),
    )
    .option('--expect-as-paper', "exit 1 unless every seed answers each of the run's own questions as the paper did (src/core/questions.ts)")
    .option('--landscape <nets>', 'after training, the 2-D loss landscape of these nets (labels: plain-56,resnet-56): landscape.json and landscape.png/.svg')
    .option('--landscape-grid <n>', 'points per side of the landscape (default 21)')
    .option('--landscape-sample <n>', 'training images the landscape is measured on (default 512)')
    .option(
      '--expect-smoother',
      'with --landscape: exit 1 unless, in every seed, the residual surface is the smoother (the smaller step ratio, src/core/landscape.ts)',
    )
    .option('--export-torch <dir>', 'write the experiment as a PyTorch job instead of running it here')
    .option('--charts-of', 'no training: redraw the charts of finished runs (the run files follow)')
    .option('--quiet', 'no progress lines');
  return addSettingFlags(cmd);
}

/**
 * The config of a command line: a preset, a file or a link as the base, then every setting given as
 * a flag. `readFile` reads --config. Throws CliError with one line on a bad value.
 */
export function configFromCli(opts: Record<string, unknown>, readFile: (path: string) => string): { config: ExperimentConfig; notes: string[] } {
  let base: ExperimentConfig = DEFAULT_CONFIG;
  const preset = opts.preset as string | undefined;
  if (preset !== undefined) {
    const p = presetById(preset);
    if (!p) throw new CliError(`--preset: "${preset}" is not a preset (${presetList()})`);
    base = p.config;
  }
  const errorsOf = (v: { issues: { level: string; message: string }[] }) => v.issues.filter((i) => i.level === 'error').map((e) => e.message);
  if (opts.config !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFile(opts.config as string));
    } catch (err) {
      throw new CliError(`--config ${String(opts.config)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const raw = (json as { format?: string; config?: unknown }).format === 'degradation-lab-run' ? (json as { config: unknown }).config : json;
    const v = validateConfig(raw, base);
    if (errorsOf(v).length) throw new CliError(`--config ${String(opts.config)}: ${errorsOf(v).join('; ')}`);
    base = v.config;
  }
  if (opts.link !== undefined) {
    const link = opts.link as string;
    const v = configFromQuery(link.includes('?') ? link.slice(link.indexOf('?')) : link, base);
    if (errorsOf(v).length) throw new CliError(`--link: ${errorsOf(v).join('; ')}`);
    base = v.config;
  }
  const v = validateConfig(settingsFromFlags(opts), base);
  const errors = v.issues.filter((i) => i.level === 'error');
  if (errors.length) throw new CliError(errors.map((e) => `${flagOf(e.field)} ${e.message.replace(/^\w+: /, '')}`).join('; '));
  return { config: v.config, notes: v.issues.map((w) => w.message) };
}
