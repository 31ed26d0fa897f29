import { Injectable } from '@nestjs/common';

/**
 * With --json, stdout carries exactly one JSON document and nothing else, so scripts can pipe
 * it; human text and diagnostics go to stderr in that mode.
 */
@Injectable()
export class CliOutput {
  result(options: { json?: boolean }, value: unknown, human: () => string): void {
    if (options.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else process.stdout.write(`${visible(human())}\n`);
  }

  info(message: string): void {
    process.stderr.write(`${visible(message)}\n`);
  }

  fail(message: string, exitCode = 1): void {
    process.stderr.write(`error: ${visible(message)}\n`);
    process.exitCode = exitCode;
  }
}

/**
 * C0 and C1 control characters and DEL (terminal escape sequences: colours, cursor moves, a
 * window title, OSC 52 writing the clipboard), the bidirectional formatting characters (text
 * shown in another order than stored) and the Unicode line separators.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_LINES = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string) => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * Text for a terminal: every control character shown as its escape (`\x1b`, `\u202e`), so that
 * what an account holder stored (a FriendlyName, a user agent) is seen, never obeyed. `inline`
 * escapes line feeds too: for a value inside a line, which must not start a line of its own.
 */
export function visible(text: string, { inline = false } = {}): string {
  return text.replace(inline ? CONTROL : CONTROL_BUT_LINES, escape);
}

/** A mistake in the command line: exit code 2, like commander's own. */
export function usageError(message: string): Error {
  return Object.assign(new Error(message), { exitCode: 2 });
}

/**
 * An account sid the database does not know: exit code 1. main.ts words it, naming the database
 * it looked in — a wrong DATA_DIR or DATABASE_URL looks exactly like a wrong sid.
 */
export class UnknownAccountError extends Error {
  readonly exitCode = 1;

  constructor(readonly sid: string) {
    super(`no account ${sid}`);
  }
}
