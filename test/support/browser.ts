import { existsSync } from 'node:fs';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`); Playwright's own browser download does not work here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const hasChromium = (): boolean => existsSync(CHROMIUM_PATH);

export const CHROMIUM_MISSING = `no Chromium at ${CHROMIUM_PATH} (install it with: apt-get install -y chromium; or set CHROMIUM_PATH)`;

/**
 * Headless, and quiet on the network: without the background-networking flags Chromium keeps
 * trying Google's hosts, which this machine's closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Counts the HTTP authentication challenges the page's requests raise: each one is where a
 * browser would show its own sign-in prompt. Every request is let through unchanged and every
 * challenge cancelled.
 */
export async function countAuthPrompts(page: Page): Promise<{ count(): number; stop(): Promise<void> }> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  let prompts = 0;
  cdp.on('Fetch.requestPaused', (event) => void cdp.send('Fetch.continueRequest', { requestId: event.requestId }).catch(() => undefined));
  cdp.on('Fetch.authRequired', (event) => {
    prompts++;
    void cdp.send('Fetch.continueWithAuth', { requestId: event.requestId, authChallengeResponse: { response: 'CancelAuth' } }).catch(() => undefined);
  });
  await cdp.send('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: '*' }] });
  return {
    count: () => prompts,
    stop: async () => {
      await cdp.send('Fetch.disable').catch(() => undefined);
      await cdp.detach().catch(() => undefined);
    },
  };
}
