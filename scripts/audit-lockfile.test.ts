import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Advisory } from './audit-lockfile';
import { auditLockfile } from './audit-lockfile';

const list = JSON.parse(readFileSync('security/known-bad.json', 'utf8')) as { advisories: Advisory[] };

describe('the lockfile audit', () => {
  it('finds a listed version, nested or at the top, and passes a fixed one', () => {
    const lock = {
      packages: {
        '': { name: 'app' },
        'node_modules/braces': { version: '3.0.2' },
        'node_modules/a/node_modules/nanoid': { version: '3.3.7' },
        'node_modules/nanoid': { version: '3.3.8' },
        'node_modules/vite': { version: '8.3.4' },
      },
    };
    const hits = auditLockfile(lock, list.advisories);
    expect(hits.map((h) => `${h.package}@${h.version} ${h.advisory.id}`)).toEqual(['braces@3.0.2 GHSA-grv7-fg5c-xmjg', 'nanoid@3.3.7 GHSA-mwcw-c2x4-8c55']);
  });

  it('passes this project’s own lockfile', () => {
    expect(auditLockfile(JSON.parse(readFileSync('package-lock.json', 'utf8')), list.advisories)).toEqual([]);
  });

  it('refuses a file that is not a version 2/3 lockfile', () => {
    expect(() => auditLockfile({}, list.advisories)).toThrow(/no "packages" map/);
  });
});
