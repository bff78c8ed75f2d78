// Checks package-lock.json against a vendored list of versions with published security advisories
// (security/known-bad.json). The registry mirror this project installs from has no audit endpoint,
// so `npm audit` cannot run here; where it can, use it as well (README: Security).
//
//   npm run audit:lockfile               exit 1 and a line per hit, if any locked version is listed
//   tsx scripts/audit-lockfile.ts LOCK   check another lockfile
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

export interface Advisory {
  package: string;
  range: string;
  id: string;
  summary: string;
}

export interface Hit {
  path: string;
  package: string;
  version: string;
  advisory: Advisory;
}

/** Every package in a lockfile (v2/v3 "packages" map) whose version falls in an advisory's range. */
export function auditLockfile(lock: { packages?: Record<string, { version?: string; name?: string }> }, advisories: readonly Advisory[]): Hit[] {
  if (!lock.packages) throw new Error('not an npm lockfile of version 2 or 3 (no "packages" map)');
  const hits: Hit[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || !entry.version) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    for (const advisory of advisories) {
      if (advisory.package === name && semver.satisfies(entry.version, advisory.range)) hits.push({ path, package: name, version: entry.version, advisory });
    }
  }
  return hits;
}

function main(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const lockPath = process.argv[2] ?? `${root}package-lock.json`;
  const list = JSON.parse(readFileSync(`${root}security/known-bad.json`, 'utf8')) as { updated: string; advisories: Advisory[] };
  const hits = auditLockfile(JSON.parse(readFileSync(lockPath, 'utf8')), list.advisories);
  for (const h of hits) console.log(`${h.package}@${h.version} (${h.path}): ${h.advisory.id} ${h.advisory.summary}; affected ${h.advisory.range}`);
  console.log(
    `${hits.length ? 'FAIL' : 'ok'}: ${hits.length} known-bad version(s) in ${lockPath} (list of ${list.advisories.length} advisories, updated ${list.updated})`,
  );
  process.exit(hits.length ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
