// After the e2e suite: it fails if the page or any worker broke the Content-Security-Policy. The
// one deliberate violation (the CSP test's probe, marked CSP_PROBE) is expected and not counted.
import { existsSync, readFileSync } from 'node:fs';
import { CSP_REPORT_FILE } from '../playwright.config';
import { CSP_PROBE } from './helpers';

export default function globalTeardown(): void {
  if (!existsSync(CSP_REPORT_FILE)) return;
  const reports = readFileSync(CSP_REPORT_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.includes(CSP_PROBE));
  if (reports.length) throw new Error(`${reports.length} Content-Security-Policy violation report(s) during the e2e suite:\n${reports.slice(0, 5).join('\n')}`);
}
