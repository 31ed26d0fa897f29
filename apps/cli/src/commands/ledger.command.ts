import { readFile } from 'node:fs/promises';
import { Inject } from '@nestjs/common';
import { SingleBar } from 'cli-progress';
import type { Kysely } from 'kysely';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import type { Database } from '@accountable/database';
import { HeadFormatError, HeadSigner, LEDGER_OFF_MESSAGE, checkProofOffline, headFromJson, headToJson, latestHead, proofToJson, proveEvent, verifyLedger, type TreeHead } from '@accountable/ledger';
import { DB, RUNTIME, type Runtime } from '@accountable/platform';
import { CliOutput, usageError } from '../cli-output';

/** An event's sid (`AE` + its id's 32 hex digits, as Monitor shows it) or its id; null when neither. */
export function eventIdOf(value: string): string | null {
  const hex = /^AE([0-9a-f]{32})$/.exec(value)?.[1] ?? (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value) ? value.replace(/-/g, '').toLowerCase() : null);
  return hex && `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Reads a JSON document a person handed us; any trouble with it is a usage error (exit 2). */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw usageError(`${what} ${file} is not JSON`);
  }
}

/**
 * LEDGER=off: `head`, `verify` and `prove` say so and exit 2 — not 1, which for `verify` means a
 * log that differs from its ledger. (`check` is offline and needs no ledger.)
 */
function refusedWhenOff(runtime: Runtime, out: CliOutput): boolean {
  if (runtime.config.LEDGER === 'on') return false;
  out.fail(LEDGER_OFF_MESSAGE, 2);
  return true;
}

async function readHeadFile(file: string): Promise<TreeHead> {
  const json = await readJsonFile(file, 'head file');
  try {
    return headFromJson(json);
  } catch (error) {
    if (error instanceof HeadFormatError) throw usageError(`head file ${file}: ${error.message}`);
    throw error;
  }
}

@SubCommand({ name: 'head', description: 'the latest signed tree head, to keep outside (exit 1 when none yet)' })
export class LedgerHeadCommand extends CommandRunner {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: { json?: boolean }): Promise<void> {
    if (refusedWhenOff(this.runtime, this.out)) return;
    const head = await latestHead(this.db);
    if (!head) return this.out.fail('no signed head yet: the ledger projection signs one after it has applied the first events');
    const json = headToJson(head);
    this.out.result(options, json, () =>
      [
        `tree size  ${json.tree_size}`,
        `root       ${json.root_hash}`,
        `signed at  ${json.signed_at}`,
        `key        ${json.key_id}`,
        'keep it: npm run -s cli -- ledger head --json > head.json',
      ].join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'print the head as JSON only (the file `ledger verify --head` and `ledger check --head` read)' })
  parseJson(): boolean {
    return true;
  }
}

@SubCommand({ name: 'verify', description: 'recompute every hash and the tree from the log, check every stored head, and that the log extends each given head (exit 1 naming the first position that differs)' })
export class LedgerVerifyCommand extends CommandRunner {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly signer: HeadSigner,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: { json?: boolean; head?: string[] }): Promise<void> {
    if (refusedWhenOff(this.runtime, this.out)) return;
    const heads = await Promise.all((options.head ?? []).map(async (file) => ({ source: file, head: await readHeadFile(file) })));
    const bar = process.stderr.isTTY
      ? new SingleBar({ format: 'ledger verify [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true })
      : undefined;
    const started = Date.now();
    bar?.start(1, 0, { speed: 0 });
    const report = await verifyLedger(this.db, {
      keyId: this.signer.keyId,
      pool: this.runtime.pool,
      heads,
      onProgress: (done, total) => {
        bar?.setTotal(total);
        bar?.update(done, { speed: Math.round(done / Math.max((Date.now() - started) / 1000, 0.001)) });
      },
    });
    bar?.stop();
    const seconds = (Date.now() - started) / 1000;
    const difference = report.firstDifference;
    this.out.result(
      options,
      {
        ok: report.ok,
        events: report.events,
        leaves_stored: report.leavesStored,
        stored_heads_checked: report.storedHeadsChecked,
        root_hash: report.rootHash,
        key_id: this.signer.keyId,
        first_difference: difference && {
          from: difference.from,
          to: difference.to,
          global_position: difference.globalPosition,
          event_id: difference.eventId,
          reason: difference.reason,
        },
        given_heads: report.givenHeads.map((h) => ({ file: h.source, tree_size: h.treeSize, ok: h.ok, reason: h.reason })),
        problems: report.problems,
        seconds,
        events_per_second: Math.round(report.events / Math.max(seconds, 0.001)),
      },
      () =>
        [
          report.ok
            ? `ok: ${report.events} events hash to root ${report.rootHash}; ${report.storedHeadsChecked} stored heads hold (key ${this.signer.keyId})`
            : `TAMPERED: ${difference ? (difference.from === difference.to ? `first difference at position ${difference.from}` : `first difference between positions ${difference.from} and ${difference.to}`) : 'see below'}${
                difference?.globalPosition != null ? ` (global position ${difference.globalPosition}, event ${difference.eventId})` : ''
              }`,
          ...report.givenHeads.map((h) => `  head ${h.source} (${h.treeSize} events): ${h.ok ? 'the log extends it (consistency proof checked)' : h.reason}`),
          // A given head's own failure is on its line above.
          ...report.problems.filter((p) => !report.givenHeads.some((h) => p.startsWith(`head ${h.source}: `))).map((p) => `  ${p}`),
          `(${report.events} events in ${seconds.toFixed(1)} s)`,
        ].join('\n'),
    );
    if (!report.ok) process.exitCode = 1;
  }

  @Option({ flags: '--head <file>', description: 'a head kept earlier (ledger head --json); repeatable' })
  parseHead(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

@SubCommand({ name: 'prove', arguments: '<event>', description: 'an inclusion proof of an event (its AE… sid or id) against the latest head, or a kept one' })
export class LedgerProveCommand extends CommandRunner {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([sid]: string[], options: { json?: boolean; head?: string }): Promise<void> {
    if (refusedWhenOff(this.runtime, this.out)) return;
    const eventId = eventIdOf(sid ?? '');
    if (!eventId) throw usageError(`${sid ?? '(missing)'} is not an event sid (AE + 32 hex digits) or id`);
    const kept = options.head ? await readHeadFile(options.head) : undefined;
    const outcome = await proveEvent(this.db, eventId, kept?.treeSize);
    if (outcome.kind === 'unknown_event') return this.out.fail(`no event ${sid} in the ledger (unknown, or not applied by the ledger projection yet)`);
    if (outcome.kind === 'no_such_head') return this.out.fail(`the ledger has no head of size ${outcome.treeSize}`);
    if (outcome.kind === 'not_yet_signed') return this.out.fail(`event ${sid} is leaf ${outcome.leafIndex}, after the head (${outcome.treeSize ?? 0} events): try again after the next head`);
    const json = proofToJson(outcome.proof, true);
    this.out.result(options, json, () =>
      [
        `event ${sid} is leaf ${json.leaf_index} of ${json.tree_size} (leaf hash ${json.leaf_hash})`,
        `head: root ${json.head.root_hash}, signed at ${json.head.signed_at} by key ${json.head.key_id}`,
        'inclusion path:',
        ...json.inclusion_path.map((h) => `  ${h}`),
        'check it offline: ledger prove SID --json > proof.json; ledger check --head head.json --proof proof.json',
      ].join('\n'),
    );
  }

  @Option({ flags: '--head <file>', description: 'prove against this kept head (its size) instead of the latest' })
  parseHead(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print the proof as JSON only (the file `ledger check --proof` reads)' })
  parseJson(): boolean {
    return true;
  }
}

@Command({ name: 'ledger', description: 'the tamper-evident ledger: head, verify, prove, check', subCommands: [LedgerHeadCommand, LedgerVerifyCommand, LedgerProveCommand] })
export class LedgerCommand extends CommandRunner {
  async run(): Promise<void> {
    throw usageError('use: ledger head | ledger verify [--head FILE …] | ledger prove EVENT_SID | ledger check --head FILE --proof FILE');
  }
}

/**
 * `ledger check --head FILE --proof FILE [--json]`: offline, before any database or key is opened
 * (main.ts runs it instead of the CLI). Exit 0 when every check holds, 1 when one fails, 2 on usage.
 */
export async function runLedgerCheck(argv: readonly string[]): Promise<number> {
  const write = (text: string) => process.stdout.write(`${text}\n`);
  const args = [...argv];
  const json = args.includes('--json');
  const valueOf = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const headFile = valueOf('--head');
  const proofFile = valueOf('--proof');
  const known = new Set(['--json', '--head', '--proof', headFile, proofFile]);
  const unknown = args.filter((a) => !known.has(a));
  if (!headFile || !proofFile || unknown.length) {
    process.stderr.write(`error: use: ledger check --head FILE --proof FILE [--json]${unknown.length ? ` (unknown: ${unknown.join(' ')})` : ''}\n`);
    return 2;
  }
  try {
    const result = checkProofOffline(await readJsonFile(headFile, 'head file'), await readJsonFile(proofFile, 'proof file'));
    if (json) write(JSON.stringify({ ok: result.ok, checks: result.checks }, null, 2));
    else write([...result.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.check}`), result.ok ? 'the proof holds' : 'the proof does NOT hold'].join('\n'));
    return result.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return (error as { exitCode?: number }).exitCode ?? (error instanceof HeadFormatError ? 2 : 1);
  }
}
