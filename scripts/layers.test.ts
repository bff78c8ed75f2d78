// The layers' edges (ARCHITECTURE.md) are enforced by the lint (eslint.config.js, no-restricted-imports):
// each rule is shown to fail on a deliberate bad import in each direction, and to pass the imports the
// design allows. The files are linted as text at the paths they would have; nothing is written.
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

/** The layer messages a file at `path` holding `code` gets from the lint. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const probe = x;\n`, { filePath: join(ROOT, path) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layer rules', () => {
  const bad: [string, string, string, RegExp][] = [
    ['core → ui (upward)', 'src/core/probe.ts', "import { x } from '../ui/store';", /src\/core imports nothing from ui/],
    ['core → worker (upward)', 'src/core/gpu/probe.ts', "import { x } from '../../worker/host';", /src\/core imports nothing/],
    ['core → storage (upward)', 'src/core/probe.ts', "import { x } from '../storage/runsDb';", /src\/core imports nothing/],
    ['core → Node (a browser layer)', 'src/core/probe.ts', "import { x } from 'node:fs';", /Node modules belong in src\/node/],
    ['a core test → ui (tests obey the edges)', 'src/core/probe.test.ts', "import { x } from '../ui/store';", /src\/core imports nothing/],
    ['core → React', 'src/core/probe.ts', "import { x } from 'react';", /knows nothing of the UI/],
    ['the step IR → an engine (upward)', 'src/core/ir/probe.ts', "import { x } from '../cpu/lower';", /The step IR knows no engine/],
    ['the step IR → the GPU engine', 'src/core/ir/probe.ts', "import { x } from '../gpu/kernels';", /The step IR knows no engine/],
    ['the step IR → ui', 'src/core/ir/probe.ts', "import { x } from '../../ui/store';", /src\/core imports nothing/],
    ['ui → an engine (past the protocol)', 'src/ui/probe.ts', "import { x } from '../core/cpu/engine';", /The UI never imports an engine/],
    ['ui → the GPU engine', 'src/ui/charts/probe.tsx', "import { x } from '../../core/gpu/engine';", /The UI never imports an engine/],
    ['ui → the worker', 'src/ui/probe.tsx', "import { x } from '../worker/engines';", /The UI never imports an engine/],
    ['ui → storage writes', 'src/ui/probe.ts', "import { x } from '../storage/runsWrite';", /The worker is the one writer/],
    ['worker → ui (upward)', 'src/worker/probe.ts', "import { x } from '../ui/store';", /src\/worker imports nothing from the page/],
    ['storage → worker (upward)', 'src/storage/probe.ts', "import { x } from '../worker/host';", /src\/storage imports only core/],
    ['storage → ui (upward)', 'src/storage/probe.ts', "import { x } from '../ui/store';", /src\/storage imports only core/],
    ['node → storage', 'src/node/probe.ts', "import { x } from '../storage/runsDb';", /src\/node imports only core/],
    ['scripts → a page module', 'scripts/probe.ts', "import { x } from '../src/ui/store';", /only through src\/ui\/automation/],
    ['bench → worker internals', 'bench/probe.ts', "import { x } from '../src/worker/session';", /only through src\/worker\/protocol/],
  ];
  it.each(bad)('refuses %s', async (_name, path, code, message) => {
    const errors = await layerErrors(path, code);
    expect(errors.length, errors.join('\n')).toBe(1);
    expect(errors[0]).toMatch(message);
  });

  const good: [string, string, string][] = [
    ['core → core', 'src/core/probe.ts', "import { x } from './config';"],
    ['the step IR → the nets', 'src/core/ir/probe.ts', "import { x } from '../nets';"],
    ['an engine → the step IR', 'src/core/gpu/probe.ts', "import { x } from '../ir/step';"],
    ['a core test → Node', 'src/core/probe.test.ts', "import { x } from 'node:fs';"],
    ['ui → core and the protocol', 'src/ui/probe.ts', "import { x } from '../core/config';\nimport type { y } from '../worker/protocol';"],
    ['ui → storage reads', 'src/ui/probe.ts', "import { x } from '../storage/runsDb';"],
    ['worker → storage and core', 'src/worker/probe.ts', "import { x } from '../storage/runsWrite';\nimport { y } from '../core/cpu/engine';"],
    [
      'scripts → the automation interface and the protocol',
      'scripts/probe.ts',
      "import type { x } from '../src/ui/automation';\nimport type { y } from '../src/worker/protocol';",
    ],
  ];
  it.each(good)('allows %s', async (_name, path, code) => {
    expect(await layerErrors(path, code)).toEqual([]);
  });
});
