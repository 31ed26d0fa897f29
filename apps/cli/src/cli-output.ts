import { Injectable } from '@nestjs/common';

/**
 * With --json, stdout carries exactly one JSON document and nothing else, so scripts can pipe
 * it; human text and diagnostics go to stderr in that mode.
 */
@Injectable()
export class CliOutput {
  result(options: { json?: boolean }, value: unknown, human: () => string): void {
    if (options.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else process.stdout.write(`${human()}\n`);
  }

  info(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  fail(message: string, exitCode = 1): void {
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = exitCode;
  }
}

/** A mistake in the command line: exit code 2, like commander's own. */
export function usageError(message: string): Error {
  return Object.assign(new Error(message), { exitCode: 2 });
}
