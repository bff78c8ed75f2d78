// Where Playwright finds a browser, and how it launches it. Shared by the e2e tests, the
// benchmark harness and the headless experiment runner, so all three run the same browser set-up.
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

export interface ChromiumChoice {
  executablePath: string | undefined;
  source: 'CHROMIUM_PATH' | '/usr/bin/chromium' | 'playwright';
}

const INSTALL_HINT =
  'No Chromium found: install one with `apt-get install -y chromium` (Debian/Ubuntu) or `npx playwright install chromium`, or set CHROMIUM_PATH to a Chromium/Chrome binary.';

/** CHROMIUM_PATH, then /usr/bin/chromium, then Playwright's own browser; else one clear line. */
export function resolveChromium(): ChromiumChoice {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, but no file is there. ${INSTALL_HINT}`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH' };
  }
  if (existsSync('/usr/bin/chromium')) return { executablePath: '/usr/bin/chromium', source: '/usr/bin/chromium' };
  let own: string | undefined;
  try {
    own = chromium.executablePath();
  } catch {
    own = undefined;
  }
  if (own && existsSync(own)) return { executablePath: undefined, source: 'playwright' };
  throw new Error(INSTALL_HINT);
}

/**
 * Flags: a closed network (no background fetches, no QUIC), a sandbox only when not root,
 * and WebGPU on SwiftShader (a CPU emulation: correct but slow) where no GPU exists.
 */
export function chromiumArgs(): string[] {
  const args = [
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    '--enable-unsafe-webgpu',
  ];
  if (typeof process.getuid === 'function' && process.getuid() === 0) args.unshift('--no-sandbox');
  return args;
}

export function launchOptions(): { executablePath?: string; args: string[] } {
  const { executablePath } = resolveChromium();
  return { ...(executablePath ? { executablePath } : {}), args: chromiumArgs() };
}
