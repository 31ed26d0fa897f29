import { randomBytes } from 'node:crypto';
import { readFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_MISSING, countAuthPrompts, hasChromium, launchChromium } from '../support/browser';
import { ROOT, runCli, startService, type ServiceProcess } from '../support/processes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The console at /console, served by the built service in its own process (see createApiApp's
 * `console`), driven in Debian's Chromium by playwright-core. With CONSOLE_SCREENSHOTS=1
 * (`npm run console:screenshots`) it also writes the README's screenshots.
 */
jest.setTimeout(180_000);

interface Account {
  sid: string;
  auth_token: string;
  friendly_name: string;
}

const TENANTS = [
  'Sign-in main',
  'Timeline main',
  'Cascade main',
  'Siblings main',
  'Another tenant',
  'Escaping main',
  'Audit main',
  'Phone main with a rather long name that wraps',
  'Axe main',
  'Key main',
];

const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS ? path.join(ROOT, 'apps/console/screenshots') : null;
const TRUSTED_TYPES_OR_CSP = /Content Security Policy|Trusted ?Type|TrustedHTML|TrustedScript/i;

let database: TestDatabase;
let service: ServiceProcess;
let url: string;
let env: Record<string, string>;
let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-console-'));
  env = { DATABASE_URL: database.url, ENCRYPTION_KEY: randomBytes(32).toString('hex'), DATA_DIR: dataDir, PROJECTION_POLL_MS: '50' };
  service = startService(env);
  url = (await service.waitFor(/listening on (http:\/\/\S+)/))[1];
});
afterAll(async () => {
  await service?.stop();
  await database?.destroy();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function createMain(name: string): Promise<Account> {
  const result = await runCli(['create-main', '--friendly-name', name, '--type', 'Full', '--json'], env);
  if (result.code !== 0) throw new Error(`create-main failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Account;
}

async function api(as: Account, apiPath: string, form?: Record<string, string>): Promise<any> {
  const response = await fetch(`${url}${apiPath}`, {
    method: form ? 'POST' : 'GET',
    headers: { authorization: `Basic ${Buffer.from(`${as.sid}:${as.auth_token}`).toString('base64')}`, ...(form && { 'content-type': 'application/x-www-form-urlencoded' }) },
    body: form && new URLSearchParams(form).toString(),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${apiPath}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const createSub = (main: Account, name: string): Promise<Account> => api(main, '/2010-04-01/Accounts.json', { FriendlyName: name });

describe('the console is served by the service', () => {
  it('at /console and every path under it: one page, strict headers, hashed assets cached for good', async () => {
    for (const pagePath of ['/console', '/console/', '/console/accounts/ACanything', '/console/audit']) {
      const response = await fetch(`${url}${pagePath}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy')!;
      for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('set-cookie')).toBeNull();
      const html = await response.text();
      // No inline script or style: every script and stylesheet is a file of the console's own.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/<style|style=/);
      for (const [, asset] of html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)) {
        const file = await fetch(`${url}${asset}`);
        expect(file.status).toBe(200);
        expect(file.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(file.headers.get('x-content-type-options')).toBe('nosniff');
      }
    }
    const missing = await fetch(`${url}/console/assets/missing.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: number }).code).toBe(20404);
    // The API's own responses are not the console's business.
    expect((await fetch(`${url}/2010-04-01/Accounts.json`)).headers.get('content-security-policy')).toBeNull();
  });
});

const describeBrowser = hasChromium() ? describe : describe.skip;

if (!hasChromium()) {
  describe(`browser tests SKIPPED: ${CHROMIUM_MISSING}`, () => {
    // CI installs Chromium (.ci/run): there, its absence is a failure, not a skip.
    (process.env.CI ? it : it.skip)('Chromium is installed', () => {
      throw new Error(CHROMIUM_MISSING);
    });
  });
}

describeBrowser('the console in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  /** Each test's own tenant, signed up through the CLI up front: one CLI start costs seconds. */
  let mains: Record<string, Account>;

  beforeAll(async () => {
    browser = await launchChromium();
    if (SCREENSHOTS) await mkdir(SCREENSHOTS, { recursive: true });
    mains = Object.fromEntries(await Promise.all(TENANTS.map(async (name) => [name, await createMain(name)] as const)));
  });
  afterAll(() => browser?.close());

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (TRUSTED_TYPES_OR_CSP.test(message.text())) problems.push(`console: ${message.text()}`);
    });
  });
  afterEach(async () => {
    await context?.close();
    // No script error, no policy violation, in any test.
    expect(problems).toEqual([]);
  });

  const shoot = async (name: string, options: { fullPage?: boolean } = {}) => {
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: options.fullPage ?? false });
  };

  async function signIn(account: Account, at = '/console/'): Promise<void> {
    await page.goto(`${url}${at}`);
    await page.getByLabel('Account SID').fill(account.sid);
    await page.getByLabel('Auth token').fill(account.auth_token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });

  it('signs in with the SID and token kept for the tab only: no browser prompt, no cookie; wrong credentials and an unreachable service are said plainly', async () => {
    const main = mains['Sign-in main'];
    const prompts = await countAuthPrompts(page);
    await page.goto(`${url}/console/`);
    await heading('Accountable console').waitFor();
    await shoot('sign-in');

    // Keyboard only: the SID field has focus, Enter submits.
    await page.keyboard.type('ACnot-a-sid');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'An account SID is AC followed by 32 characters' }).waitFor();
    expect(await page.getByLabel('Account SID').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Account SID').fill(main.sid);
    await page.getByLabel('Auth token').fill('0'.repeat(32));
    await page.getByLabel('Auth token').press('Enter');
    await page.getByRole('alert').filter({ hasText: 'The account SID or the auth token is wrong.' }).waitFor();
    // The API's 401 carries WWW-Authenticate; the console's requests never let it raise the browser's prompt.
    expect(prompts.count()).toBe(0);

    // The service unreachable, then failing: said so, nothing kept.
    await page.route('**/2010-04-01/**', (route) => route.abort('connectionrefused'));
    await page.getByLabel('Auth token').fill(main.auth_token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Service unavailable. The service cannot be reached' }).waitFor();
    await page.unroute('**/2010-04-01/**');
    await page.route('**/2010-04-01/**', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ code: 20503, message: 'Service Unavailable', more_info: '', status: 503 }) }),
    );
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'The service is unavailable right now' }).waitFor();
    await page.unroute('**/2010-04-01/**');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Accounts').waitFor();
    expect(prompts.count()).toBe(0);
    await prompts.stop();
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate('[document.cookie, localStorage.length, sessionStorage.length]')).toEqual(['', 0, 1]);

    // A reload keeps the tab signed in; another tab (a new session) is not.
    await page.reload();
    await heading('Accounts').waitFor();
    const other = await context.newPage();
    await other.goto(`${url}/console/accounts`);
    await other.getByRole('heading', { level: 1, name: 'Accountable console' }).waitFor();
    await other.close();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Account SID').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.goto(`${url}/console/accounts`);
    await page.getByLabel('Account SID').waitFor();
  });

  it('signs in with an API key: the audit trail lists the account’s events; accounts and history are not offered; sign-out forgets the key', async () => {
    const main = mains['Key main'];
    const sub = await createSub(main, 'Seen by the key');
    const key = (await api(main, `/2010-04-01/Accounts/${main.sid}/Keys.json`, { FriendlyName: 'console' })) as { sid: string; secret: string };
    await page.goto(`${url}/console/`);
    await page.getByRole('button', { name: 'Use an API key instead' }).click();
    await page.getByLabel('Account SID').fill(main.sid);
    await page.getByLabel('API key SID').fill(key.sid);
    await page.getByLabel('API key secret').fill('0'.repeat(32));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'The API key SID or secret is wrong' }).waitFor();
    await page.getByLabel('API key secret').fill(key.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await heading('Audit trail').waitFor();
    await eventually(async () => {
      await page.getByRole('button', { name: 'Search' }).click();
      return (await page.locator('table.events tbody tr').filter({ hasText: 'Seen by the key' }).count()) > 0;
    });
    expect(await page.locator('table.events tbody tr').filter({ hasText: sub.sid }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'Accounts', exact: true }).count()).toBe(0);
    expect(await page.evaluate('sessionStorage.length')).toBe(1);

    // Typed into the address, a page the key cannot use says so (and survives a reload).
    for (const at of ['/console/accounts', `/console/accounts/${sub.sid}`]) {
      await page.goto(`${url}${at}`);
      await heading('Not available with an API key').waitFor();
    }
    await page.getByRole('link', { name: 'Go to the audit trail' }).click();
    await heading('Audit trail').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Account SID').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('creates and renames a subaccount and sees the timeline grow; the slider at version 1 shows the first name', async () => {
    const main = mains['Timeline main'];
    await signIn(main);
    await page.getByLabel('New subaccount’s name').fill('Alpha');
    await page.getByRole('button', { name: 'Create subaccount' }).click();
    await page.getByRole('status').filter({ hasText: 'Created the subaccount “Alpha”.' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Alpha' });
    await row.getByRole('link', { name: 'Alpha' }).waitFor();

    await row.getByRole('button', { name: 'Rename Alpha' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rename “Alpha”' });
    await dialog.getByLabel('New name').fill('Alpha Two');
    await dialog.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('status').filter({ hasText: 'Renamed “Alpha” to “Alpha Two”.' }).waitFor();
    await shoot('accounts');

    await page.getByRole('link', { name: 'Alpha Two' }).click();
    await heading('Alpha Two').waitFor();
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByRole('listitem').filter({ hasText: 'Renamed' }).waitFor();
    expect(await timeline.locator(':scope > li').count()).toBe(2);
    const renamed = timeline.locator('#v2');
    expect(await renamed.locator('td.before').textContent()).toBe('Alpha');
    expect(await renamed.locator('td.after').textContent()).toBe('Alpha Two');
    expect(await renamed.locator('.meta').textContent()).toMatch(/by you .*via the API.*from 127\.0\.0\.1/);

    // Changed elsewhere (another client): Refresh shows the timeline grown.
    const sid = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await api(main, `/2010-04-01/Accounts/${sid}.json`, { FriendlyName: 'Alpha Three' });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await heading('Alpha Three').waitFor();
    expect(await timeline.locator(':scope > li').count()).toBe(3);

    // The slider, by keyboard: Home is version 1, the first name, marked as changed since.
    const slider = page.getByRole('slider', { name: 'Version' });
    await slider.focus();
    await page.keyboard.press('Home');
    await page.locator('#state-summary').filter({ hasText: 'After version 1 of 3' }).waitFor();
    const nameRow = page.locator('table.comparison tr').filter({ hasText: 'Name' });
    expect(await nameRow.locator('td.then').textContent()).toBe('Alpha');
    expect(await nameRow.locator('td.now').textContent()).toBe('Alpha Three');
    expect(await nameRow.getAttribute('class')).toContain('differs');
    expect(new URL(page.url()).searchParams.get('version')).toBe('1');
    expect(await timeline.locator('#v1').getAttribute('aria-current')).toBe('step');
    await shoot('history', { fullPage: true });

    await page.keyboard.press('ArrowRight');
    await page.locator('#state-summary').filter({ hasText: 'After version 2 of 3' }).waitFor();
    expect(await nameRow.locator('td.then').textContent()).toBe('Alpha Two');

    // A time before the account existed.
    await page.getByLabel('Or at a time (your local time)').fill('2000-01-01T00:00:00');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.getByText('The account did not exist yet').waitFor();

    // The chosen version survives a reload: the address names it.
    await page.goto(`${url}/console/accounts/${sid}?version=1`);
    await page.locator('#state-summary').filter({ hasText: 'After version 1 of 3' }).waitFor();
  });

  it('suspending a main account (operator, CLI) shows each subaccount’s change caused by it, linked both ways', async () => {
    const main = mains['Cascade main'];
    const [a, b] = [await createSub(main, 'Cascade A'), await createSub(main, 'Cascade B')];
    await signIn(main);

    expect((await runCli(['suspend', main.sid], env)).code).toBe(0);
    // The console's next call is refused: the session ends, and says why.
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('status').filter({ hasText: /signed out: .*not active \(suspended\)/i }).waitFor();
    await waitForCascade([a.sid, b.sid], 1);

    expect((await runCli(['reactivate', main.sid], env)).code).toBe(0);
    await waitForCascade([a.sid, b.sid], 2);
    await signIn(main, `/console/accounts/${a.sid}`);
    await heading('Cascade A').waitFor();
    const cascaded = page.getByRole('listitem').filter({ hasText: 'Status changed to suspended because its owner account was suspended' });
    await cascaded.waitFor();
    expect(await cascaded.locator('.meta').textContent()).toMatch(/by the service itself.*via a cascade/);
    const cause = cascaded.getByRole('link', { name: /^version \d+ of your account \(AccountStatusChanged\)$/ });
    const causeVersion = Number((await cause.textContent())!.match(/version (\d+)/)![1]);
    await cause.click();

    await heading('Cascade main').waitFor();
    const parent = page.locator(`#v${causeVersion}`);
    expect(await parent.getAttribute('aria-current')).toBe('step');
    expect(await parent.locator('h3').textContent()).toBe('Status changed to suspended by an operator');
    expect(await parent.locator('.meta').textContent()).toMatch(/by an operator.*via the command line/);
    await parent.getByText('Caused 2 events:').waitFor();
    const effects = parent.locator('.effects a');
    expect((await effects.allTextContents()).sort()).toEqual([`version 2 of account ${a.sid} (AccountStatusChanged)`, `version 2 of account ${b.sid} (AccountStatusChanged)`].sort());
    await shoot('cascade', { fullPage: true });

    await parent.getByRole('link', { name: `version 2 of account ${b.sid} (AccountStatusChanged)` }).click();
    await heading('Cascade B').waitFor();
    expect(await page.locator('#v2').getAttribute('aria-current')).toBe('step');
    await page.locator('#v2').getByRole('link', { name: /of your account/ }).waitFor();
  });

  async function waitForCascade(sids: string[], perAccount: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await database.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM events WHERE stream_id = ANY($1) AND metadata ? 'causationId'`,
        [sids.map((sid) => `account-${sid}`)],
      );
      if (Number(rows[0].n) >= sids.length * perAccount) return;
      if (Date.now() > deadline) throw new Error('the owner cascade did not run');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a sibling’s or another tenant’s sid typed into the address shows “not found”', async () => {
    const main = mains['Siblings main'];
    const other = mains['Another tenant'];
    const [mine, sibling] = [await createSub(main, 'Mine'), await createSub(main, 'Sibling')];
    await signIn(mine);
    // A subaccount sees itself only, and cannot create subaccounts.
    await page.getByRole('link', { name: 'Mine' }).waitFor();
    expect(await page.getByRole('row').count()).toBe(2);
    expect(await page.getByRole('button', { name: 'Create subaccount' }).count()).toBe(0);

    for (const sid of [sibling.sid, main.sid, other.sid, 'ACnot-even-a-sid']) {
      await page.goto(`${url}/console/accounts/${sid}`);
      await heading('Account not found').waitFor();
      expect(await page.locator('main').textContent()).not.toMatch(/Sibling|Siblings main|Another tenant/);
    }
    await page.goto(`${url}/console/accounts/${mine.sid}`);
    await heading('Mine').waitFor();
    await page.goto(`${url}/console/no-such-page`);
    await heading('Page not found').waitFor();
  });

  it('a name holding <script> renders as text, everywhere it appears', async () => {
    const main = mains['Escaping main'];
    const name = '<script>window.__pwned=1</script><img src=x onerror=alert(1)>';
    await signIn(main);
    await page.getByLabel('New subaccount’s name').fill(name);
    await page.getByRole('button', { name: 'Create subaccount' }).click();
    const link = page.getByRole('link', { name });
    await link.waitFor();
    expect(await link.textContent()).toBe(name);
    await link.click();
    await heading(name).waitFor();
    expect(await page.locator('#v1 td.after').first().textContent()).toBe(name);
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('cell', { name: new RegExp(`Name: — → ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).waitFor();
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main img, main script').count()).toBe(0);
  });

  it('searches the audit trail with Monitor’s filters, newest first, pages, and exports CSV and JSON safe for spreadsheets', async () => {
    const main = mains['Audit main'];
    const formula = '=HYPERLINK("http://example.invalid","click")';
    const target = await createSub(main, formula);
    for (let i = 0; i < 55; i++) await createSub(main, `bulk ${i}`);
    await api(main, `/2010-04-01/Accounts/${target.sid}.json`, { FriendlyName: 'renamed target' });
    await signIn(main);
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await heading('Audit trail').waitFor();
    // Projections apply the creations in the background; the newest page fills once they have.
    await eventually(async () => {
      await page.getByRole('button', { name: 'Search' }).click();
      return (await page.getByRole('button', { name: 'Older' }).isEnabled()) && (await page.locator('table.events tbody tr').count()) === 50;
    });
    expect(await page.locator('table.events tbody tr').first().textContent()).toContain('renamed target');
    await shoot('audit');
    await page.getByRole('button', { name: 'Older' }).click();
    await page.getByText('Page 2').waitFor();
    await page.getByRole('button', { name: 'Newer' }).click();
    await page.getByText('Page 1').waitFor();

    await page.getByLabel('Filter by').selectOption('ResourceSid');
    await page.getByLabel('Account (resource SID)').fill(target.sid);
    await page.getByRole('button', { name: 'Search' }).click();
    await eventually(async () => (await page.locator('table.events tbody tr').count()) === 2);
    expect(await page.locator('table.events tbody tr').nth(0).textContent()).toContain('renamed target');
    expect(await page.locator('table.events tbody tr').nth(1).textContent()).toContain('Subaccount created');

    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = await readFile((await csvDownload.path())!, 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      '"sid","event_date","event_type","description","resource_sid","actor_type","actor_sid","source","source_ip_address",' +
        '"friendly_name_previous","friendly_name_updated","status_previous","status_updated","type_previous","type_updated","event_data"',
    );
    expect(lines).toHaveLength(3);
    // The name that is a formula arrives as text: quoted and prefixed, never a live cell.
    expect(csv).toContain(`'=HYPERLINK(""http://example.invalid"",""click"")`);
    expect(csv).not.toMatch(/(^|,)"=/m);
    await page.getByRole('status').filter({ hasText: 'Exported 2 events.' }).waitFor();

    const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const exported = JSON.parse(await readFile((await jsonDownload.path())!, 'utf8'));
    expect(exported).toMatchObject({ filters: { ResourceSid: target.sid }, truncated: false });
    expect(exported.events.map((e: { resource_sid: string }) => e.resource_sid)).toEqual([target.sid, target.sid]);
    expect(exported.events[1].event_data.friendly_name.updated).toBe(formula);

    await page.getByLabel('To (local time, inclusive)').fill('2000-01-01T00:00');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No events match this search.').waitFor();
  });

  it('reads on a phone: no sideways scrolling, tables become cards', async () => {
    const main = mains['Phone main with a rather long name that wraps'];
    await createSub(main, 'A subaccount whose long name has to wrap on a narrow screen');
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(main);
    await page.getByRole('link', { name: /A subaccount whose long name/ }).waitFor();
    const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(await page.evaluate(`getComputedStyle(document.querySelector('table.accounts thead')).position`)).toBe('absolute');
    await shoot('phone-accounts', { fullPage: true });
    await page.getByRole('link', { name: /A subaccount whose long name/ }).click();
    await page.getByRole('slider', { name: 'Version' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.locator('table.events').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
  });

  it('passes axe-core’s WCAG 2.1 AA checks (labels, contrast, landmarks) on every page', async () => {
    const main = mains['Axe main'];
    const sub = await createSub(main, 'Axe sub');
    const axe = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
    // axe is injected by the test only: the page's own policy would (rightly) refuse it.
    await context.close();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    page = await context.newPage();
    const audit = async (where: string) => {
      await page.addScriptTag({ content: axe });
      const result = await page.evaluate<string[]>(`axe
        .run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
        .then((run) => run.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`);
      expect({ where, violations: result }).toEqual({ where, violations: [] });
    };
    await page.goto(`${url}/console/`);
    await page.getByLabel('Account SID').waitFor();
    await audit('sign-in');
    await signIn(main);
    await page.getByRole('link', { name: 'Axe sub' }).waitFor();
    await audit('accounts');
    await page.goto(`${url}/console/accounts/${sub.sid}`);
    await page.locator('#state-summary').waitFor();
    await audit('history');
    await page.goto(`${url}/console/audit`);
    await page.locator('table.events').waitFor();
    await audit('audit');
    for (const scheme of ['dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await audit(`audit, ${scheme} scheme`);
    }
  });
});

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
