// Headless Debian Chromium for the browser tests, started with the flags this closed network needs
// (no background connections, no component updates), and the check that it is installed.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether the browser tests can run. CI installs chromium and sets WEIR_REQUIRE_BROWSER, so a missing
 * browser fails there instead of passing silently; elsewhere the tests are skipped with a message.
 */
export function browserAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.WEIR_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is missing but WEIR_REQUIRE_BROWSER is set`);
  console.warn(`${what} skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
