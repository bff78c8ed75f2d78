// Before the e2e suite: an empty Content-Security-Policy report file (the server appends to it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CSP_REPORT_FILE } from '../playwright.config';

export default function globalSetup(): void {
  mkdirSync(dirname(CSP_REPORT_FILE), { recursive: true });
  writeFileSync(CSP_REPORT_FILE, '');
}
