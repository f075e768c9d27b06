import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium; the project installs it (tooling/scripts/install-chromium.sh), never downloads one. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Launches headless Debian chromium with the flags this closed network needs (playwright gives it a
 * fresh temporary profile).
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
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
  return {
    browser,
    close: () => browser.close(),
  };
}
