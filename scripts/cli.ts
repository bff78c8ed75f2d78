// The command lines' shared vocabulary: every experiment setting is a flag named as in the URL
// (SETTINGS in src/core/config.ts: the key in kebab case), with its older names still read, its
// range and its default in --help. Parsed by commander (a well-kept library that prints usage from
// the same option table, suggests the nearest flag for a typo, and lets us own the exit code).
// An unknown or bad flag is one line on stderr and exit code 2; never a stack trace.
import { Command, CommanderError, Option } from 'commander';
import type { ExperimentConfig } from '../src/core/config';
import { SETTINGS, nameOf } from '../src/core/config';

/** A command-line mistake: one line for the user, exit code 2. */
export class CliError extends Error {}

/** A new command named `prog`, whose errors are thrown (not printed, not exited) so that `parseCli` owns them. */
export function newCommand(prog: string, summary: string): Command {
  return new Command(prog)
    .description(summary)
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({ writeErr: () => undefined })
    .configureHelp({ helpWidth: 110, sortOptions: false });
}

/** Commander's attribute for each flag that names a setting → the setting, and whether the flag is its name (else an older name). */
const settingAttribute = new Map<string, { key: keyof ExperimentConfig; isName: boolean }>();

/** One flag per experiment setting, named as in the URL; the older names are hidden flags for the same setting. */
export function addSettingFlags(cmd: Command, only?: readonly (keyof ExperimentConfig)[]): Command {
  for (const s of SETTINGS) {
    if (only && !only.includes(s.key)) continue;
    const aliases = s.aliases.length ? `; also read: --${s.aliases.join(', --')}` : '';
    const o = new Option(`--${s.name} <value>`, `${s.help} (default ${s.defaultText}${aliases})`);
    settingAttribute.set(o.attributeName(), { key: s.key, isName: true });
    cmd.addOption(o);
    for (const alias of s.aliases) {
      const a = new Option(`--${alias} <value>`).hideHelp();
      settingAttribute.set(a.attributeName(), { key: s.key, isName: false });
      cmd.addOption(a);
    }
  }
  return cmd;
}

/** The settings that flags gave (name or older name; the name wins), as raw strings for validateConfig. */
export function settingsFromFlags(opts: Record<string, unknown>): Partial<Record<keyof ExperimentConfig, string>> {
  const out: Partial<Record<keyof ExperimentConfig, string>> = {};
  const given = (attr: string) => opts[attr] !== undefined && typeof opts[attr] === 'string';
  for (const [attr, { key, isName }] of settingAttribute) {
    if (!given(attr)) continue;
    if (isName || out[key] === undefined) out[key] = opts[attr] as string;
  }
  return out;
}

/** The flag a setting is given by on the command line (for messages). */
export const flagOf = (key: keyof ExperimentConfig): string => `--${nameOf(key)}`;

/**
 * Parse argv (without node and the script). Returns the options and positionals, or
 * `{ help }` with the usage text when --help was asked; throws CliError with one line on a mistake.
 */
export function parseCli(cmd: Command, argv: readonly string[]): { opts: Record<string, unknown>; args: string[] } | { help: string } {
  if (argv.includes('--help') || argv.includes('-h')) return { help: cmd.helpInformation() };
  try {
    cmd.parse(argv as string[], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    const message = err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
    const unknown = /^unknown option '([^']+)'/.exec(message);
    if (unknown) {
      const near = nearestFlag(cmd, unknown[1]);
      throw new CliError(`unknown option '${unknown[1]}'${near ? ` (the nearest is ${near}; --help lists them all)` : ' (--help lists the options)'}`);
    }
    throw new CliError(message);
  }
  return { opts: cmd.opts(), args: cmd.args };
}

/** Edit distance with adjacent transpositions (optimal string alignment): "trian" is one step from "train". */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The valid flag nearest to a mistyped one, over every flag the command reads (older names too;
 * an older name is offered as the setting's name, with the older name it was near). Null when
 * nothing is within half the flag's length.
 */
export function nearestFlag(cmd: Command, typed: string): string | null {
  const word = typed.replace(/^-+/, '').split('=')[0].toLowerCase();
  let best: { flag: string; d: number } | null = null;
  for (const o of cmd.options) {
    const long = o.long?.replace(/^--/, '');
    if (!long || (o.hidden && !settingAttribute.has(o.attributeName()))) continue;
    // a prefix is near; so is a typo in the first word of a two-word flag ("--bach" for --batch-size)
    const d = long.startsWith(word)
      ? Math.abs(long.length - word.length) * 0.1
      : Math.min(editDistance(word, long), editDistance(word, long.split('-')[0]) + 0.5);
    if (best === null || d < best.d) {
      const setting = settingAttribute.get(o.attributeName());
      const name = setting ? nameOf(setting.key) : long;
      best = { flag: name === long ? `--${long}` : `--${name} (or its older name --${long})`, d };
    }
  }
  return best && best.d <= Math.max(2, word.length / 2) ? best.flag : null;
}

/** Run a command line's main: --help prints usage (exit 0); a CliError prints one line (exit 2). */
export function cliMain(prog: string, cmd: Command, argv: readonly string[]): { opts: Record<string, unknown>; args: string[] } {
  try {
    const r = parseCli(cmd, argv);
    if ('help' in r) {
      process.stdout.write(r.help);
      process.exit(0);
    }
    return r;
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`${prog}: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}
