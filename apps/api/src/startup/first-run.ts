import { open } from 'node:fs/promises';
import path from 'node:path';
import type { LogFormat } from '../observability/logging';
import type { FirstRunCredentials } from './ready-block';

/** Beside the embedded database in DATA_DIR; mode 0600. */
export const CREDENTIALS_FILE = 'first-run-credentials.env';

/**
 * Where the first run's auth token may go. Only to a person: the terminal block when stdout is
 * a terminal showing human lines; else stderr when that is a terminal (`npm start | jq`); else
 * — output piped, redirected or collected — a file only this user can read, whose path is
 * logged. Never into a log stream: a pipe or a file on stdout is where log collectors read.
 */
export function credentialsDestination(format: LogFormat, stdoutIsTTY: boolean, stderrIsTTY: boolean): 'block' | 'stderr' | 'file' {
  if (format === 'pretty' && stdoutIsTTY) return 'block';
  if (stderrIsTTY) return 'stderr';
  return 'file';
}

/**
 * Writes the credentials as shell variables (twilio-node reads TWILIO_ACCOUNT_SID and
 * TWILIO_AUTH_TOKEN from the environment), readable by this user only. Replaces a file left by
 * an earlier first run on a database since deleted. Returns its absolute path.
 */
export async function writeCredentialsFile(dataDir: string, url: string, credentials: FirstRunCredentials): Promise<string> {
  const file = path.resolve(dataDir, CREDENTIALS_FILE);
  const handle = await open(file, 'w', 0o600);
  try {
    // The mode above applies only to a file this call creates.
    await handle.chmod(0o600);
    await handle.writeFile(
      [
        `# Accountable: the main account created on the first run (${new Date().toISOString()}).`,
        '# Its auth token is stored nowhere else in clear: keep it somewhere safe, then delete this file.',
        '# Use: set -a; . ./first-run-credentials.env; set +a',
        `TWILIO_ACCOUNT_SID=${credentials.sid}`,
        `TWILIO_AUTH_TOKEN=${credentials.authToken}`,
        `ACCOUNTABLE_URL=${url}`,
        '',
      ].join('\n'),
    );
  } finally {
    await handle.close();
  }
  return file;
}
