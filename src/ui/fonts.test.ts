import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FONT_STACK } from './fonts';

describe('the font stack', () => {
  it('is the same in the page’s CSS as in the exports, and names fonts with Chinese glyphs for each platform', () => {
    const css = readFileSync(join(import.meta.dirname, 'app.css'), 'utf8');
    const body = /font-family:\s*([^;]+);/.exec(css)![1];
    const names = (s: string) => s.split(',').map((f) => f.trim().replace(/^['"]|['"]$/g, ''));
    expect(names(body)).toEqual(names(FONT_STACK));
    for (const cjk of ['Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei']) expect(names(FONT_STACK)).toContain(cjk);
  });
});
