// The experiment form is rendered from the config's field table (FORM). These tests hold the
// table to what the form needs: every label and option has words in both languages, and every
// option the form offers is a value that validateConfig accepts unchanged.
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, DEFAULT_CONFIG, FORM, configToQuery, validateConfig } from '../core/config';
import { DICTIONARIES } from './i18n';
import { BLOCK_TYPES } from '../core/nets';
import { FULL_LESSON, PRESETS } from '../core/presets';
import { initialFromUrl } from './store';

function lookup(dict: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), dict);
}

describe('the form table', () => {
  it('has one control per config field, with unique element ids', () => {
    expect(FORM.map((f) => f.key)).toEqual(CONFIG_KEYS);
    const ids = FORM.map((f) => f.control.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  for (const lang of ['en', 'zh'] as const) {
    it(`names every control and option in ${lang}`, () => {
      const missing: string[] = [];
      for (const { control } of FORM) {
        if (typeof lookup(DICTIONARIES[lang], control.label) !== 'string') missing.push(control.label);
        if ('optionLabels' in control && control.optionLabels) {
          for (const o of control.options) {
            const key = `${control.optionLabels}.${o}`;
            if (typeof lookup(DICTIONARIES[lang], key) !== 'string') missing.push(key);
          }
        }
      }
      expect(missing).toEqual([]);
    });
  }

  for (const lang of ['en', 'zh'] as const) {
    it(`names and describes every preset in ${lang}`, () => {
      for (const p of PRESETS) {
        expect(lookup(DICTIONARIES[lang], `presets.${p.id}.name`), p.id).toEqual(expect.any(String));
        const blurb = String(lookup(DICTIONARIES[lang], `presets.${p.id}.blurb`));
        expect(blurb.length, p.id).toBeGreaterThan(20); // a sentence, not a key
        // one expected time, this machine's (the form's "Expected here"); other machines' figures live in docs/
        expect(blurb, p.id).not.toMatch(/Xeon|EPYC|\d+ minutes on|分钟/);
      }
    });
  }

  it('offers only values that validation accepts as they are', () => {
    for (const { key, control } of FORM) {
      if (control.kind === 'number' || control.kind === 'toggle') continue;
      for (const o of control.options) {
        const value = control.kind === 'multi' ? [o] : o;
        // a depth chip is valid for the block type whose rule it fits (6n+2 basic, 9n+2 bottleneck)
        const blocks = key === 'depths' ? [...BLOCK_TYPES] : DEFAULT_CONFIG.blocks;
        // with bottlenecks, shortcut B (their default; option A gets a note, tested in config.test.ts)
        const shortcuts = key === 'depths' || key === 'blocks' ? ['B'] : DEFAULT_CONFIG.shortcuts;
        const { config, issues } = validateConfig({ ...DEFAULT_CONFIG, blocks, shortcuts, iterations: 1000, evalEvery: 100, [key]: value });
        expect(issues, `${key} = ${String(o)}`).toEqual([]);
        expect(config[key]).toEqual(value);
      }
    }
  });

  it('refuses an empty set for a multi-select, naming the field', () => {
    const multi = FORM.filter((f) => f.control.kind === 'multi');
    expect(multi.map((f) => f.key)).toEqual(['depths', 'families', 'shortcuts', 'blocks', 'warmup', 'gateBias']);
    for (const { key } of multi) {
      const { issues } = validateConfig({ ...DEFAULT_CONFIG, [key]: [] });
      expect(issues[0]).toMatchObject({ field: key, level: 'error' });
      expect(issues[0].message).toContain(key);
    }
  });
});

describe('a preset in the page URL', () => {
  it('opens the Full lesson from its name and from the link the page writes for it, and names it', () => {
    for (const search of ['?preset=full', `?${configToQuery(FULL_LESSON)}`]) {
      const page = initialFromUrl(search);
      expect(page.urlIssues, search).toEqual([]);
      expect(page.config, search).toEqual(FULL_LESSON);
      expect(page.presetId, search).toBe('full');
    }
    // a setting after the preset's name changes that setting, and the config is no longer the preset
    const changed = initialFromUrl('?preset=full&seed=2');
    expect(changed.config).toEqual({ ...FULL_LESSON, seed: 2 });
    expect(changed.presetId).toBeNull();
  });
});
