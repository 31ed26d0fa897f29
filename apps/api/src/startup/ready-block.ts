import type { ProcessRole } from '../app.module';

/** What the person who ran `npm start` needs to make the first request. */
export interface ReadyFacts {
  role: ProcessRole;
  /** `http://host:port`, as a client on this machine reaches it. */
  url: string;
  /** The embedded PostgreSQL's data directory as configured; absent with DATABASE_URL. */
  dataDir?: string;
  /** How many accounts the database holds (embedded only). */
  accounts?: { total: number; main: number };
  firstRun?: FirstRunCredentials;
  /** Where the first run's credentials went when they could not be shown here. */
  credentialsElsewhere?: string;
}

export interface FirstRunCredentials {
  sid: string;
  authToken: string;
}

/**
 * The block printed once the service is ready, in a terminal: every address a newcomer needs,
 * and on the first run the credentials with a request to paste. Plain text, no colour: it is
 * meant to be copied.
 */
export function readyBlock(facts: ReadyFacts): string {
  const { url, role } = facts;
  const api = role !== 'projector';
  const rows: [string, string][] = [];
  if (api) {
    rows.push(['API', `${url}/2010-04-01/Accounts.json  (Twilio REST API v2010)`]);
    rows.push(['docs', `${url}/docs`]);
    rows.push(['console', `${url}/console`]);
  }
  rows.push(['health', `${url}/health/live, ${url}/health/ready`]);
  rows.push(['metrics', `${url}/metrics`]);
  rows.push(['data', facts.dataDir === undefined ? 'DATABASE_URL' : `${facts.dataDir} (embedded PostgreSQL${facts.accounts ? `, ${accountCount(facts.accounts)}` : ''})`]);
  const title = role === 'all' ? 'Accountable is ready' : `Accountable ${role} process is ready`;
  const lines = ['', `  ${title} on ${url}`, ...rows.map(([name, value]) => `    ${name.padEnd(9)}${value}`), ''];
  if (facts.firstRun) lines.push(...credentialsLines(url, facts.firstRun), '');
  else if (facts.credentialsElsewhere) lines.push(`  First run: ${facts.credentialsElsewhere}`, '');
  else if (api && facts.dataDir !== undefined) lines.push(`  New credentials: npm run -s cli -- create-main --friendly-name "My account"`, '');
  lines.push('  Ctrl-C stops it.', '');
  return lines.join('\n') + '\n';
}

/** The first run's account, a curl and a twilio-node snippet, each ready to paste. */
export function credentialsLines(url: string, { sid, authToken }: FirstRunCredentials): string[] {
  return [
    '  First run: created a main account. Its auth token is shown only now; keep it somewhere safe.',
    `    account sid  ${sid}`,
    `    auth token   ${authToken}`,
    '',
    '  Try it:',
    `    curl -u ${sid}:${authToken} ${url}/2010-04-01/Accounts.json`,
    '',
    '  With twilio-node (npm install twilio):',
    `    const client = require('twilio')('${sid}', '${authToken}');`,
    `    client.api.baseUrl = '${url}';`,
    `    client.api.v2010.accounts.list().then((accounts) => console.log(accounts.map((a) => a.friendlyName)));`,
  ];
}

export function accountCount({ total, main }: { total: number; main: number }): string {
  return `${total} ${total === 1 ? 'account' : 'accounts'}, ${main} main`;
}
