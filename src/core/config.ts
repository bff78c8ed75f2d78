// ExperimentConfig: the one typed source of truth for an experiment. The URL, presets, the worker
// protocol, saved runs and exports all carry it, and every entry point validates it here.
// One table (FIELDS) describes every field: its URL key, default, and how to parse and check it,
// so the URL codec, the JSON codec and validation cannot drift apart (tensorflow/playground style).
// The same table says how the form shows each field (FORM): the control, its options and its i18n
// label keys, so a new field or option is one edit here plus its strings in src/ui/i18n/en.ts and zh.ts.
// The nets an experiment trains from a config (netsOf, their specs and labels) are in ./experimentNets.ts.
import type { BlockType, NetFamily, Shortcut } from './nets';
import { BLOCK_TYPES, HIGHWAY_GATE_BIAS, NET_FAMILIES, SHORTCUTS, blocksFor, fitsBlock } from './nets';
import type { WarmupMode } from './schedule';
import { WARMUP_MODES } from './schedule';
import type { ChoosableEngine } from './train';
import { BASE_LR, BATCH_SIZE, ENGINES, ENGINE_NAMES } from './train';

/** The families an experiment trains side by side (a link's older 'both' means plain and residual). */
export const FAMILIES = NET_FAMILIES;
/** Compute backends; 'auto' picks the fastest that works (src/core/backend.ts). */
export type BackendChoice = 'auto' | ChoosableEngine;
const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...ENGINE_NAMES.filter((e): e is ChoosableEngine => ENGINES[e].choice)];
const SPLITS = ['test', 'paper'] as const;
export type Split = (typeof SPLITS)[number];

export interface ExperimentConfig {
  /** Depths to train, ascending: 6n+2 (8 … 1202) for basic blocks, 9n+2 (11 … 164) for bottlenecks. */
  depths: number[];
  /** The families trained side by side: plain, residual (one net per shortcut option), highway. */
  families: NetFamily[];
  /** Shortcut options for the residual nets: one residual net per depth per option. */
  shortcuts: Shortcut[];
  /** Block types: each depth is built with every chosen type whose rule it fits (6n+2 basic, 9n+2 bottleneck). */
  blocks: BlockType[];
  /** Warmup variants: every net trains once per variant (one variant: the experiment's warmup). */
  warmup: WarmupMode[];
  /** Highway nets: the gates' initial bias, one highway net per value (He et al. 2016 found −6 best for this gating). */
  gateBias: number[];
  lr: number;
  batchSize: number;
  iterations: number;
  /** Training images used (the first ones of the training set). */
  trainSize: number;
  /** Images in the fixed test subset evaluated at every evaluation interval. */
  testSize: number;
  /** 'test': evaluate on test_batch; 'paper': hold out the last 5k training images (45k/5k). */
  split: Split;
  augment: boolean;
  width: number;
  /** Iterations between evaluations (test error, layer responses, gradient norms). */
  evalEvery: number;
  seed: number;
  /** Compute backend; 'auto' picks the fastest that works (see src/core/backend.ts). */
  backend: BackendChoice;
}

/** The range of a highway gate's initial bias: 0 (half open) to −10 (closed: σ(−10) ≈ 5e-5). */
const GATE_BIAS_RANGE = [-10, 0] as const;

/** The depths the form offers (any 6n+2 or 9n+2 up to the block type's MAX_N is valid in a link). */
export const ALL_DEPTHS = [8, 11, 14, 20, 29, 32, 44, 47, 56, 83, 110, 164, 1202] as const;
/**
 * Blocks per stage, at most: n = 200 for basic blocks (the paper's ResNet-1202), 18 for bottlenecks (ResNet-164, He et
 * al. 2016). Deeper nets are refused by their cost (src/core/cost.ts), not by this table.
 */
const MAX_N: Record<BlockType, number> = { basic: 200, bottleneck: 18 };
/** The largest depth of each block type. */
const maxDepth = (block: BlockType) => (block === 'basic' ? 6 : 9) * MAX_N[block] + 2;
/** Whether a depth is a net of this block type that the lab builds. */
const buildsDepth = (d: number, block: BlockType) => fitsBlock(d, block) && blocksFor(d, block) <= MAX_N[block];
/** The form's depths that fit a block type, as a message lists them: "8, 14, 20, …" (from the tables, never a literal list). */
const depthsText = (block: BlockType) => ALL_DEPTHS.filter((d) => buildsDepth(d, block)).join(', ');

export const DEFAULT_CONFIG: ExperimentConfig = {
  depths: [20, 56],
  families: ['plain', 'residual'],
  shortcuts: ['A'],
  blocks: ['basic'],
  warmup: ['off'],
  gateBias: [HIGHWAY_GATE_BIAS],
  lr: BASE_LR,
  batchSize: BATCH_SIZE,
  iterations: 2000,
  trainSize: 50_000,
  testSize: 1000,
  split: 'test',
  augment: true,
  width: 1,
  evalEvery: 100,
  seed: 1,
  backend: 'auto',
};

/** A problem with one field: `error` means the value was refused, `warning` that it was clamped. */
export interface ConfigIssue {
  field: keyof ExperimentConfig;
  level: 'error' | 'warning';
  message: string;
}

type Parsed<T> = { ok: true; value: T; warning?: string } | { ok: false; error: string };

interface Field<K extends keyof ExperimentConfig> {
  key: K;
  /**
   * Older names of the setting (URL keys and runner flags before one vocabulary), still read so
   * that old links and scripts keep working. The name itself is the key in kebab case (nameOf).
   */
  aliases?: readonly string[];
  /** What it is and its range, for the runner's --help. */
  help: string;
  /** Parse from a URL string or check a JSON value. */
  parse(raw: unknown): Parsed<ExperimentConfig[K]>;
  toUrl(v: ExperimentConfig[K]): string;
  /** How the experiment form shows it. */
  form: FormControl;
}

/**
 * A field's control in the experiment form. `label` is an i18n key; `optionLabels` is the prefix of
 * one key per option (`${optionLabels}.${option}`); without it an option shows as its value.
 * 'multi' picks a non-empty set; 'select' with `open` also lists the current value if it is not
 * among the options (a value from a link or a preset). `place` groups the controls: fieldsets at
 * the top, a two-column grid of numbers and lists, then on/off switches.
 */
export type FormControl = { label: string; id: string; place: 'fieldset' | 'grid' | 'line' } & (
  | { kind: 'multi'; options: readonly (string | number)[]; optionLabels?: string; layout: 'chips' | 'lines' }
  | { kind: 'radio'; options: readonly string[]; optionLabels: string }
  | { kind: 'select'; options: readonly (string | number)[]; optionLabels?: string; open?: boolean }
  | { kind: 'number'; step: number }
  | { kind: 'toggle' }
);

function number(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
  if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return null;
}

/** A number within [min, max]: out of range is clamped with a warning; not a number is an error. */
function ranged(min: number, max: number, integer: boolean, what: string) {
  return (raw: unknown): Parsed<number> => {
    const n = number(raw);
    if (n === null) return { ok: false, error: `${JSON.stringify(raw)} is not a number (${what})` };
    let v = integer ? Math.round(n) : n;
    let warning: string | undefined;
    if (integer && v !== n) warning = `${n} is not a whole number; using ${v}`;
    if (v < min || v > max) {
      const c = Math.min(max, Math.max(min, v));
      warning = `${v} is outside ${min}–${max}; using ${c}`;
      v = c;
    }
    return { ok: true, value: v, warning };
  };
}

function oneOf<T extends string>(options: readonly T[]) {
  return (raw: unknown): Parsed<T> =>
    typeof raw === 'string' && (options as readonly string[]).includes(raw)
      ? { ok: true, value: raw as T }
      : { ok: false, error: `${JSON.stringify(raw)} is not one of ${options.join(', ')}` };
}

function list(raw: unknown): unknown[] | null {
  if (Array.isArray(raw)) return raw;
  if (typeof raw === 'string')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return null;
}

/** A non-empty set of options, from a list or a comma-separated string, in the options' order. */
function listOf<T extends string>(options: readonly T[], what: string) {
  return (raw: unknown): Parsed<T[]> => {
    const items = list(raw);
    if (!items || items.length === 0) return { ok: false, error: `needs at least one ${what}: ${options.join(', ')}` };
    for (const item of items) {
      if (!options.includes(item as T)) return { ok: false, error: `${JSON.stringify(item)} is not a ${what} (${options.join(', ')})` };
    }
    return { ok: true, value: options.filter((o) => items.includes(o)) };
  };
}

const FIELDS: { [K in keyof ExperimentConfig]: Field<K> } = {
  depths: {
    key: 'depths',
    help: `depths, comma-separated: 6n+2 (8 … ${maxDepth('basic')}) for basic blocks, 9n+2 (11 … ${maxDepth('bottleneck')}) for bottlenecks`,
    parse(raw) {
      const items = list(raw);
      if (!items || items.length === 0) return { ok: false, error: 'needs at least one depth, e.g. 20,56' };
      const depths: number[] = [];
      for (const item of items) {
        const d = number(item);
        if (d === null || !BLOCK_TYPES.some((b) => buildsDepth(d, b))) {
          return {
            ok: false,
            error: `${JSON.stringify(item)} is not a CIFAR net depth (6n+2 from 8 to ${maxDepth('basic')}: ${depthsText('basic')}, …; or 9n+2 for bottlenecks, to ${maxDepth('bottleneck')}: ${depthsText('bottleneck')}, …)`,
          };
        }
        if (!depths.includes(d)) depths.push(d);
      }
      return { ok: true, value: depths.sort((a, b) => a - b) };
    },
    toUrl: (v) => v.join(','),
    form: { kind: 'multi', options: ALL_DEPTHS, layout: 'chips', label: 'controls.depths', id: 'depths', place: 'fieldset' },
  },
  families: {
    key: 'families',
    help: `families trained side by side, comma-separated: ${NET_FAMILIES.join(', ')} (both = plain,residual)`,
    parse(raw) {
      const items = list(raw);
      if (!items || items.length === 0) return { ok: false, error: `needs at least one of ${FAMILIES.join(', ')}` };
      const out: NetFamily[] = [];
      for (const item of items) {
        // 'both' is what links said before highway nets joined: plain and residual
        const named = item === 'both' ? (['plain', 'residual'] as const) : FAMILIES.filter((f) => f === item);
        if (named.length === 0) return { ok: false, error: `${JSON.stringify(item)} is not one of ${FAMILIES.join(', ')} (or both)` };
        for (const f of named) if (!out.includes(f)) out.push(f);
      }
      return { ok: true, value: FAMILIES.filter((f) => out.includes(f)) };
    },
    toUrl: (v) => v.join(','),
    form: { kind: 'multi', options: FAMILIES, optionLabels: 'controls.family', layout: 'lines', label: 'controls.families', id: 'families', place: 'fieldset' },
  },
  shortcuts: {
    key: 'shortcuts',
    aliases: ['shortcut'],
    help: 'shortcut options of the residual nets, comma-separated: A (identity, zero-padded), B (projection where dimensions grow), C (projections everywhere)',
    parse(raw) {
      const items = list(raw);
      if (!items || items.length === 0) return { ok: false, error: `needs at least one of ${SHORTCUTS.join(', ')}` };
      const out: Shortcut[] = [];
      for (const item of items) {
        const s = SHORTCUTS.find((o) => typeof item === 'string' && item.toUpperCase() === o);
        if (!s) return { ok: false, error: `${JSON.stringify(item)} is not a shortcut option (${SHORTCUTS.join(', ')})` };
        if (!out.includes(s)) out.push(s);
      }
      return { ok: true, value: out.sort() };
    },
    toUrl: (v) => v.join(','),
    form: {
      kind: 'multi',
      options: SHORTCUTS,
      optionLabels: 'controls.shortcut',
      layout: 'lines',
      label: 'controls.shortcuts',
      id: 'shortcuts',
      place: 'fieldset',
    },
  },
  blocks: {
    key: 'blocks',
    aliases: ['block'],
    help: `block types, comma-separated: ${BLOCK_TYPES.join(', ')} (each depth is built with every type whose rule it fits)`,
    parse: listOf(BLOCK_TYPES, 'block type'),
    toUrl: (v) => v.join(','),
    form: { kind: 'multi', options: BLOCK_TYPES, optionLabels: 'controls.block', layout: 'lines', label: 'controls.blocks', id: 'blocks', place: 'fieldset' },
  },
  warmup: {
    key: 'warmup',
    help: `warmup variants, comma-separated (every net trains once per variant): ${WARMUP_MODES.join(', ')}`,
    parse: listOf(WARMUP_MODES, 'warmup mode'),
    toUrl: (v) => v.join(','),
    form: {
      kind: 'multi',
      options: WARMUP_MODES,
      optionLabels: 'controls.warmupMode',
      layout: 'lines',
      label: 'controls.warmup',
      id: 'warmup',
      place: 'fieldset',
    },
  },
  gateBias: {
    key: 'gateBias',
    aliases: ['gatebias'],
    help: `highway nets: the gates' initial bias, comma-separated, ${GATE_BIAS_RANGE[0]}–${GATE_BIAS_RANGE[1]} (one highway net per value)`,
    parse(raw) {
      const items = list(raw);
      if (!items || items.length === 0)
        return { ok: false, error: `needs at least one gate bias from ${GATE_BIAS_RANGE[0]} to ${GATE_BIAS_RANGE[1]}, e.g. -2` };
      const out: number[] = [];
      const warnings: string[] = [];
      for (const item of items) {
        const r = ranged(GATE_BIAS_RANGE[0], GATE_BIAS_RANGE[1], false, 'highway gate bias')(item);
        if (!r.ok) return r;
        if (r.warning) warnings.push(r.warning);
        if (!out.includes(r.value)) out.push(r.value);
      }
      return { ok: true, value: out.sort((a, b) => b - a), warning: warnings.join('; ') || undefined };
    },
    toUrl: (v) => v.join(','),
    form: { kind: 'multi', options: [-1, -2, -3, -6, -10], layout: 'chips', label: 'controls.gateBias', id: 'gate-bias', place: 'fieldset' },
  },
  lr: {
    key: 'lr',
    help: 'learning rate, 0.00001–10',
    parse: ranged(1e-5, 10, false, 'learning rate'),
    toUrl: String,
    form: { kind: 'number', step: 0.01, label: 'controls.lr', id: 'lr', place: 'grid' },
  },
  batchSize: {
    key: 'batchSize',
    aliases: ['batch'],
    help: 'images per mini-batch, 2–512',
    parse: ranged(2, 512, true, 'images per batch'),
    toUrl: String,
    form: { kind: 'select', options: [16, 32, 64, 128, 256], open: true, label: 'controls.batch', id: 'batch', place: 'grid' },
  },
  iterations: {
    key: 'iterations',
    aliases: ['iters'],
    help: 'training iterations (SGD steps), 1–200000',
    parse: ranged(1, 200_000, true, 'iterations'),
    toUrl: String,
    form: { kind: 'number', step: 100, label: 'controls.iterations', id: 'iterations', place: 'grid' },
  },
  trainSize: {
    key: 'trainSize',
    aliases: ['train'],
    help: 'training images used (the first ones of the training set), 100–50000',
    parse: ranged(100, 50_000, true, 'training images'),
    toUrl: String,
    form: { kind: 'select', options: [1000, 5000, 10_000, 45_000, 50_000], open: true, label: 'controls.trainSize', id: 'train-size', place: 'grid' },
  },
  testSize: {
    key: 'testSize',
    aliases: ['test'],
    help: 'test images evaluated at every evaluation, 10–10000',
    parse: ranged(10, 10_000, true, 'test images'),
    toUrl: String,
    form: { kind: 'number', step: 100, label: 'controls.testSize', id: 'test-size', place: 'grid' },
  },
  split: {
    key: 'split',
    help: `what the test error is measured on: ${SPLITS.join(', ')} (paper: hold out the last 5k training images, 45k/5k)`,
    parse: oneOf(SPLITS),
    toUrl: String,
    form: { kind: 'select', options: SPLITS, optionLabels: 'controls.splitMode', label: 'controls.split', id: 'split', place: 'grid' },
  },
  augment: {
    key: 'augment',
    aliases: ['aug'],
    help: 'augmentation (4-pixel pad, random crop, flip): on/off (1/0, true/false)',
    parse: (raw) =>
      raw === true || raw === '1' || raw === 'true' || raw === 'on'
        ? { ok: true, value: true }
        : raw === false || raw === '0' || raw === 'false' || raw === 'off'
          ? { ok: true, value: false }
          : { ok: false, error: `${JSON.stringify(raw)} is not on/off (1 or 0)` },
    toUrl: (v) => (v ? '1' : '0'),
    form: { kind: 'toggle', label: 'controls.augment', id: 'augment', place: 'line' },
  },
  width: {
    key: 'width',
    help: 'width multiplier of the 16/32/64 filters, 0.25–4 in steps of 0.25',
    parse(raw) {
      const r = ranged(0.25, 4, false, 'width multiplier')(raw);
      if (!r.ok) return r;
      const v = Math.round(r.value * 4) / 4;
      return { ok: true, value: v, warning: v !== r.value ? `${r.value} is not a multiple of 0.25 (filters must be multiples of 4); using ${v}` : r.warning };
    },
    toUrl: String,
    form: { kind: 'select', options: [0.25, 0.5, 0.75, 1, 1.5, 2], open: true, label: 'controls.width', id: 'width', place: 'grid' },
  },
  evalEvery: {
    key: 'evalEvery',
    aliases: ['eval'],
    help: 'iterations between evaluations (test error, layer responses, gradient norms), 1–100000',
    parse: ranged(1, 100_000, true, 'iterations between evaluations'),
    toUrl: String,
    form: { kind: 'number', step: 10, label: 'controls.evalEvery', id: 'eval-every', place: 'grid' },
  },
  seed: {
    key: 'seed',
    help: 'random seed: weights, data order and augmentation, 0–4294967295',
    parse: ranged(0, 2 ** 32 - 1, true, 'random seed'),
    toUrl: String,
    form: { kind: 'number', step: 1, label: 'controls.seed', id: 'seed', place: 'grid' },
  },
  backend: {
    key: 'backend',
    help: `compute engine: ${BACKEND_CHOICES.join(', ')} (auto picks the fastest that works)`,
    parse: oneOf(BACKEND_CHOICES),
    toUrl: String,
    form: { kind: 'select', options: BACKEND_CHOICES, optionLabels: 'controls.backendMode', label: 'controls.backend', id: 'backend-choice', place: 'grid' },
  },
};

export const CONFIG_KEYS = Object.keys(FIELDS) as (keyof ExperimentConfig)[];

/** The form's controls, in table order. */
export const FORM: readonly { key: keyof ExperimentConfig; control: FormControl }[] = CONFIG_KEYS.map((key) => ({ key, control: FIELDS[key].form }));

/**
 * A setting's one name, in the URL, the runner's flags and the bench: its key in kebab case
 * (trainSize → train-size). One vocabulary, so a share link's settings run unchanged as flags.
 */
export const nameOf = (key: keyof ExperimentConfig): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every setting's name, its older names (still read), its help text and its default, for the URL codec and the command lines. */
export const SETTINGS: readonly { key: keyof ExperimentConfig; name: string; aliases: readonly string[]; help: string; defaultText: string }[] =
  CONFIG_KEYS.map((key) => {
    const f = FIELDS[key] as Field<keyof ExperimentConfig>;
    return { key, name: nameOf(key), aliases: f.aliases ?? [], help: f.help, defaultText: f.toUrl(DEFAULT_CONFIG[key]) };
  });

/** Every name a URL may use for a setting (its name and its older names). */
export const CONFIG_URL_KEYS: readonly string[] = SETTINGS.flatMap((s) => [s.name, ...s.aliases]);

/** The older name → the name, for every setting that had another name (an alias table; tested). */
export const SETTING_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(SETTINGS.flatMap((s) => s.aliases.map((a) => [a, s.name])));

interface ValidatedConfig {
  config: ExperimentConfig;
  issues: ConfigIssue[];
}

function apply(get: (f: Field<keyof ExperimentConfig>) => unknown, base: ExperimentConfig): ValidatedConfig {
  const config = { ...base } as Record<string, unknown>;
  const issues: ConfigIssue[] = [];
  for (const key of CONFIG_KEYS) {
    const field = FIELDS[key] as Field<keyof ExperimentConfig>;
    const raw = get(field);
    if (raw === undefined) continue;
    const r = field.parse(raw);
    if (!r.ok) {
      issues.push({ field: key, level: 'error', message: `${key}: ${r.error}` });
      continue;
    }
    config[key] = r.value;
    if (r.warning) issues.push({ field: key, level: 'warning', message: `${key}: ${r.warning}` });
  }
  const c = config as unknown as ExperimentConfig;
  // each depth must fit one of the chosen block types (and drop out otherwise, with an error naming it)
  const unfit = c.depths.filter((d) => !c.blocks.some((b) => buildsDepth(d, b)));
  if (unfit.length > 0) {
    const rules = c.blocks
      .map((b) => (b === 'basic' ? `basic blocks take 6n+2 (${depthsText('basic')})` : `bottlenecks take 9n+2 (${depthsText('bottleneck')})`))
      .join('; ');
    issues.push({
      field: 'depths',
      level: 'error',
      message: `depths: ${unfit.join(', ')} fit${unfit.length === 1 ? 's' : ''} none of the chosen block types (${rules})`,
    });
    const fit = c.depths.filter((d) => !unfit.includes(d));
    c.depths = fit.length > 0 ? fit : base.depths.filter((d) => c.blocks.some((b) => fitsBlock(d, b)));
    if (c.depths.length === 0) c.depths = [c.blocks.includes('basic') ? 20 : 29];
  }
  // B is the bottleneck nets' default: a link or file that names bottlenecks alone and no shortcut gets B
  if (get(FIELDS.shortcuts as Field<keyof ExperimentConfig>) === undefined && !c.blocks.includes('basic') && c.shortcuts.join() === 'A') c.shortcuts = ['B'];
  if (c.blocks.includes('bottleneck') && c.families.includes('residual') && c.shortcuts.includes('A')) {
    issues.push({
      field: 'shortcuts',
      level: 'warning',
      message:
        'shortcuts: option A in a bottleneck net zero-pads 16 → 64 channels at stride 1 in stage 1, so 48 of its 64 channels have no identity path there; ResNet-164 (He et al. 2016) projects instead: B is the default for bottleneck nets',
    });
  }
  if (c.evalEvery > c.iterations) {
    issues.push({
      field: 'evalEvery',
      level: 'warning',
      message: `evalEvery: ${c.evalEvery} is more than the ${c.iterations} iterations; using ${c.iterations}`,
    });
    c.evalEvery = c.iterations;
  }
  return { config: c, issues };
}

/** Validate a config from JSON (an import, a saved run, a message). Missing fields take defaults. */
export function validateConfig(input: unknown, base: ExperimentConfig = DEFAULT_CONFIG): ValidatedConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { config: { ...base }, issues: [{ field: 'depths', level: 'error', message: 'the configuration is not an object' }] };
  }
  const obj = input as Record<string, unknown>;
  return apply((f) => obj[f.key], base);
}

/** Read a config from a URL query string; parameters that are not config keys are ignored. */
export function configFromQuery(query: string, base: ExperimentConfig = DEFAULT_CONFIG): ValidatedConfig {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  return apply((f) => [nameOf(f.key), ...(f.aliases ?? [])].map((k) => params.get(k)).find((v) => v !== null) ?? undefined, base);
}

/** The query string for a config: every field, in table order, so a link reproduces the run. */
export function configToQuery(config: ExperimentConfig): string {
  const params = new URLSearchParams();
  for (const key of CONFIG_KEYS) {
    const field = FIELDS[key] as Field<keyof ExperimentConfig>;
    params.set(nameOf(key), field.toUrl(config[key]));
  }
  return params.toString();
}
