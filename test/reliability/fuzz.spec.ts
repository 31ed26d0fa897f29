import fc from 'fast-check';
import { MEDIA_TYPES, representationOfPath } from '@accountable/twilio';
import { startTestApp, type TestApp } from '../support/test-app';
import { csvRecords, parseCsv, parseXml } from '../support/wire-formats';
import { basic, describeOutcome, isTwilioError, send, type Credentials, type Outcome } from './support/http';
import { byProfile, SEED } from './support/profile';
import { recordResult } from './support/results';

const RUNS = byProfile({ ci: 300, full: 10_000 });
const BODY_LIMIT = 1024 * 1024;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A rename that must succeed and answer with exactly this name (XML: U+FFFD where XML 1.0 has no character). */
  expectName?: string;
}

/** Characters node sends as they are in a request line: 0x21–0xFF (latin1 above 0x7F goes out as raw bytes). */
const pathChar = fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c));
/** Characters a header value may hold on the wire (node refuses the rest before sending). */
const headerChar = fc.oneof(fc.constant('\t'), fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)));
const rawPathText = (maxLength = 40) => fc.string({ unit: pathChar, maxLength });
const headerText = (maxLength = 80) => fc.string({ unit: headerChar, maxLength }).map((s) => s.trim());
/** Any Unicode text, lone surrogates and NUL included. */
const anyText = (maxLength = 80) => fc.oneof(fc.string({ unit: 'grapheme', maxLength }), fc.string({ unit: 'binary', maxLength }), fc.string({ maxLength }));
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

/** Percent-encodes what must be, leaving lone surrogates as the raw escape `%ED%A0%80` would spell them. */
function encode(text: string): string {
  let out = '';
  for (const ch of text) {
    try {
      out += encodeURIComponent(ch);
    } catch {
      out += `%ED%${(0xa0 + ((ch.charCodeAt(0) >> 6) & 0x0f)).toString(16).toUpperCase()}%${(0x80 + (ch.charCodeAt(0) & 0x3f)).toString(16).toUpperCase()}`;
    }
  }
  return out;
}

const show = (req: FuzzRequest): string =>
  `${req.method} ${JSON.stringify(req.path.slice(0, 300))} headers=${JSON.stringify(req.headers).slice(0, 600)} body(${req.body?.length ?? '-'})=${
    req.body ? JSON.stringify(req.body.subarray(0, 200).toString('latin1')) : '-'
  }`;

describe('fuzzing every endpoint: never a 5xx, and a rejected request changes nothing', () => {
  let t: TestApp;
  const known = { accountSids: [] as string[], eventSids: [] as string[], pageTokens: [] as string[], authHeaders: [] as string[], validAuth: [] as string[], renamer: { auth: '', sid: '' } };

  beforeAll(async () => {
    t = await startTestApp();
    const a = await t.createMain('Fuzz A', 'Full');
    const b = await t.createMain('Fuzz B', 'Full');
    const trial = await t.createMain('Fuzz Trial', 'Trial');
    const principals: Credentials[] = [a, b, trial].map((m) => ({ sid: m.sid, authToken: m.authToken }));
    for (const [owner, name, status] of [
      [principals[0], 'a1', undefined],
      [principals[0], 'a2', 'suspended'],
      [principals[0], 'a3', 'closed'],
      [principals[1], 'b1', undefined],
    ] as const) {
      const created = await send(t.baseUrl, '/2010-04-01/Accounts.json', { as: owner, body: { FriendlyName: name } });
      const sub = { sid: (created as any).json.sid, authToken: (created as any).json.auth_token };
      if (status) await send(t.baseUrl, `/2010-04-01/Accounts/${sub.sid}.json`, { as: owner, body: { Status: status } });
      principals.push(sub);
    }
    await t.drainProjections();
    known.accountSids = principals.map((p) => p.sid);
    for (const p of principals.slice(0, 2)) {
      const list = await send(t.baseUrl, '/2010-04-01/Accounts.json?PageSize=1', { as: p });
      const events = await send(t.baseUrl, '/v1/Events?PageSize=1', { as: p });
      for (const uri of [(list as any).json.next_page_uri, (events as any).json.meta.next_page_url]) {
        const token = uri && new URL(uri, t.baseUrl).searchParams.get('PageToken');
        if (token) known.pageTokens.push(token);
      }
      for (const e of (await send(t.baseUrl, '/v1/Events?PageSize=50', { as: p }) as any).json.events) known.eventSids.push(e.sid);
    }
    expect(known.pageTokens.length).toBe(4);
    // Active accounts: the mains and the first subaccount of each tenant (a2 is suspended, a3 closed).
    known.validAuth = [principals[0], principals[1], principals[2], principals[3], principals[6]].map(basic);
    // Main A renaming its active subaccount a1: every rename is a 2xx whose answer carries the name.
    known.renamer = { auth: basic(principals[0]), sid: principals[3].sid };
    known.authHeaders = [
      ...principals.map(basic),
      basic({ sid: principals[0].sid, authToken: principals[1].authToken }),
      basic({ sid: principals[0].sid, authToken: principals[0].authToken.toUpperCase() }),
      `basic ${basic(principals[0]).slice(6)}`,
      `Basic  ${basic(principals[0]).slice(6)}  `,
      'Basic',
      'Basic =',
      'Basic Og==',
      `Bearer ${principals[0].authToken}`,
    ];
  });
  afterAll(() => t?.close());

  /** Events, idempotency keys and the read model's versions: what a rejected request must leave alone. */
  async function fingerprint(): Promise<string> {
    const { rows } = await t.database.pool.query<{ f: string }>(
      `SELECT concat_ws('/', (SELECT count(*) FROM events), (SELECT count(*) FROM idempotency_keys),
                        (SELECT coalesce(sum(version), 0) FROM account_read_model), (SELECT count(*) FROM account_read_model)) AS f`,
    );
    return rows[0].f;
  }

  // --- generators ------------------------------------------------------------------------------
  const authArb = () =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 6, arbitrary: fc.constantFrom(...known.validAuth) },
      { weight: 3, arbitrary: fc.constantFrom(...known.authHeaders) },
      { weight: 1, arbitrary: fc.tuple(anyText(40), anyText(40)).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`) },
      { weight: 1, arbitrary: headerText() },
    );
  const sidArb = (prefix: 'AC' | 'AE') =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...(prefix === 'AC' ? known.accountSids : known.eventSids)) },
      { weight: 2, arbitrary: hex(32).map((h) => `${prefix}${h}`) },
      { weight: 1, arbitrary: fc.constantFrom(...known.accountSids, ...known.eventSids).map((s) => s.toUpperCase()) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('AC', 'AE', 'ac', ''), hex(31), fc.constantFrom('', 'g', '00', '%00', '%2e')).map((p) => p.join('')) },
      { weight: 2, arbitrary: rawPathText(60) },
      { weight: 2, arbitrary: anyText(40).map(encode) },
      { weight: 1, arbitrary: fc.constantFrom('..', '%2e%2e', '%', '%zz', '%ff', '%c0%af', '%00', '.json', 'x'.repeat(120), 'AC%30%30', '%E0%A4%A') },
    );
  const paramValue = () =>
    fc.oneof(
    { weight: 3, arbitrary: anyText(30) },
    { weight: 2, arbitrary: fc.constantFrom('', '0', '1', '-1', '1000', '1001', '2.5', '1e3', '99999999999999999999', 'active', 'suspended', 'closed', 'Active', 'null', '[]', '{}') },
    { weight: 2, arbitrary: fc.constantFrom(...known.pageTokens) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('PA', 'PB', 'PC', ''), fc.oneof(fc.date({ noInvalidDate: false }).map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())), anyText(10)), sidArb('AC'))
        .map(([p, d, s]) => `${p}${Buffer.from(JSON.stringify([d, s])).toString('base64url')}`),
    },
    { weight: 1, arbitrary: fc.constantFrom(...known.pageTokens).chain((tok) => fc.nat(tok.length - 1).map((i) => `${tok.slice(0, i)}${tok[i] === 'A' ? 'B' : 'A'}${tok.slice(i + 1)}`)) },
    { weight: 1, arbitrary: fc.constantFrom('2020-01-01', '2020-02-30', '2020-01-01T00:00:00Z', '9999-12-31T23:59:59.999-23:59', '0000-01-01', '2020-01-01T24:00:00Z', '2020-13-01', '1970-01-01T00:00:00+99:99') },
    { weight: 1, arbitrary: sidArb('AC') },
    { weight: 1, arbitrary: sidArb('AE') },
    { weight: 1, arbitrary: fc.constantFrom('account.created', 'account.updated', '127.0.0.1', '::1', '999.1.1.1') },
  );
  const paramName = (names: string[]) => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: anyText(12) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'FriendlyName[]', 'Status[0]', '') });
  /** name=value pairs, each part percent-encoded, left raw, or both. */
  const pairsArb = (names: string[]) =>
    fc.array(
      fc.tuple(paramName(names), paramValue(), fc.constantFrom('encoded', 'encoded', 'raw', 'no-equals')).map(([n, v, how]) =>
        how === 'encoded' ? `${encode(n)}=${encode(v)}` : how === 'raw' ? `${encode(n)}=${v.replace(/[^\x21-\xff]/g, (c) => encode(c)).replace(/[#&]/g, (c) => encode(c))}` : encode(n),
      ),
      { maxLength: 6 },
    );
  const queryArb = (names: string[]) =>
    fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 4, arbitrary: pairsArb(names).map((p) => (p.length ? `?${p.join('&')}` : '')) }, { weight: 1, arbitrary: rawPathText(40).map((q) => `?${q}`) });

  const contentTypes = [
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/json',
    'application/json; charset=utf-16',
    'application/JSON',
    'text/plain',
    'multipart/form-data',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/octet-stream',
    '*/*',
    ';',
    '',
  ];
  const bodyArb = (names: string[]) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ type: fc.constant('application/x-www-form-urlencoded'), body: pairsArb(names).map((p) => Buffer.from(p.join('&'), 'latin1')) }) },
      {
        weight: 3,
        arbitrary: fc.record({
          type: fc.constant('application/json'),
          body: fc
            .oneof(
              fc.dictionary(paramName(names), fc.oneof(paramValue(), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 }).map((o) => JSON.stringify(o)),
              fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
              anyText(60),
              fc.constantFrom('{"FriendlyName":', '{"__proto__":{"FriendlyName":"x"}}', '{"constructor":{"prototype":{}}}', '{"FriendlyName":"\\u0000"}', '{"FriendlyName":"\\ud800"}', 'null', '"x"', '[]', '1e999'),
            )
            .map((text) => Buffer.from(text, 'utf8')),
        }),
      },
      { weight: 2, arbitrary: fc.record({ type: fc.constantFrom(...contentTypes), body: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) }) },
      { weight: 1, arbitrary: fc.record({ type: fc.constantFrom(...contentTypes), body: anyText(80).map((s) => Buffer.from(s, 'utf8')) }) },
      { weight: 1, arbitrary: fc.record({ type: fc.constantFrom(undefined, 'application/x-www-form-urlencoded', 'application/json'), body: fc.constant(undefined) }) },
      { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('application/x-www-form-urlencoded', 'application/json'), body: fc.constantFrom(BODY_LIMIT - 1, BODY_LIMIT + 1).map((n) => Buffer.alloc(n, 0x61)) }) },
    );
  const extraHeadersArb = () =>
    fc.oneof({ weight: 1, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: someHeadersArb() });
  const someHeadersArb = () =>
    fc.record(
    {
      'idempotency-key': fc.oneof(fc.constant('fuzz-key'), fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, '')), headerText(300)),
      host: fc.oneof(fc.constantFrom('127.0.0.1', 'example.com:99999', '[::1]', 'a b', '', 'xn--', '%'), headerText(40)),
      'x-forwarded-for': headerText(40),
      'x-forwarded-proto': fc.constantFrom('https', 'gopher', ''),
      'content-encoding': fc.constantFrom('gzip', 'identity', 'br', 'x'),
      accept: fc.constantFrom('application/json', 'text/html', '*/*', ''),
      'user-agent': headerText(100),
      'twilio-request-id': headerText(40),
    },
    { requiredKeys: [] },
  );

  const ACCOUNT_PARAMS = ['FriendlyName', 'Status', 'PageSize', 'Page', 'PageToken'];
  /** The 2010 API's representations: `.json`, XML with or without `.xml`, `.csv` (and a few that are none). */
  const listSuffix = () => fc.constantFrom('.json', '.json', '', '.xml', '.csv');
  const EVENT_PARAMS = ['ActorSid', 'EventType', 'ResourceSid', 'SourceIpAddress', 'StartDate', 'EndDate', 'PageSize', 'Page', 'PageToken'];
  const OTHER_METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'GET', 'POST'];

  function request(method: string, path: string, auth: string | undefined, extra: Record<string, string>, body?: { type?: string; body?: Buffer }): FuzzRequest {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(extra)) if (value !== '' || name === 'accept') headers[name] = value;
    if (auth !== undefined) headers.authorization = auth;
    if (body?.type !== undefined && body.type !== '') headers['content-type'] = body.type;
    const req: FuzzRequest = { method, path, headers, body: body?.body };
    // fast-check prints counterexamples with this: a 1 MiB body would drown the report.
    Object.defineProperty(req, fc.toStringMethod, { value: () => show(req), enumerable: false });
    return req;
  }

  const endpoints: { name: string; arb: () => fc.Arbitrary<FuzzRequest> }[] = [
    {
      name: 'GET /2010-04-01/Accounts{.json,.xml,.csv,}',
      arb: () => fc.tuple(listSuffix(), queryArb(ACCOUNT_PARAMS), authArb(), extraHeadersArb()).map(([ext, q, a, h]) => request('GET', `/2010-04-01/Accounts${ext}${q}`, a, h)),
    },
    {
      name: 'POST /2010-04-01/Accounts{.json,.xml,.csv,}',
      arb: () =>
        fc.tuple(listSuffix(), queryArb(ACCOUNT_PARAMS), authArb(), extraHeadersArb(), bodyArb(['FriendlyName'])).map(([ext, q, a, h, b]) => request('POST', `/2010-04-01/Accounts${ext}${q}`, a, h, b)),
    },
    {
      name: 'GET /2010-04-01/Accounts/{Sid}{.json,.xml,.csv,}',
      arb: () =>
        fc.tuple(sidArb('AC'), fc.constantFrom('.json', '.json', '', '.JSON', '.json/', '.xml', '.csv', '.html', '.xml.json'), queryArb(ACCOUNT_PARAMS), authArb(), extraHeadersArb()).map(([s, ext, q, a, h]) =>
          request('GET', `/2010-04-01/Accounts/${s}${ext}${q}`, a, h),
        ),
    },
    {
      name: 'POST /2010-04-01/Accounts/{Sid}{.json,.xml,.csv,}',
      arb: () =>
        fc.tuple(sidArb('AC'), fc.constantFrom('.json', '.json', '', '.JSON', '.xml', '.csv'), authArb(), extraHeadersArb(), bodyArb(['FriendlyName', 'Status'])).map(([s, ext, a, h, b]) =>
          request('POST', `/2010-04-01/Accounts/${s}${ext}`, a, h, b),
        ),
    },
    {
      name: 'POST /2010-04-01/Accounts/{Sid}{.json,.xml,.csv,} any storable name, answered in that format',
      arb: () =>
        fc
          .tuple(
            fc.constantFrom('.json', '', '.xml', '.csv'),
            // 1–64 code points of anything PostgreSQL stores (no NUL, no lone surrogate), not only white space.
            fc
              .string({ unit: fc.oneof(fc.constantFrom('<', '>', '&', '"', "'", '=', '+', '-', '@', ',', '\r', '\n', '\t', '\u0001', '\u001f', '\ufffe', ']]>', '&amp;'), fc.constant('😀'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 64 })
              .map((name) => name.replace(/[\u0000\ud800-\udfff]/g, 'x'))
              .filter((name) => [...name].length <= 64 && name.trim() !== ''),
            fc.constantFrom('application/x-www-form-urlencoded', 'application/json'),
          )
          .map(([ext, name, type]) => {
            const body = type === 'application/json' ? JSON.stringify({ FriendlyName: name }) : `FriendlyName=${encodeURIComponent(name)}`;
            const req = request('POST', `/2010-04-01/Accounts/${known.renamer.sid}${ext}`, known.renamer.auth, {}, { type, body: Buffer.from(body, 'utf8') });
            req.expectName = name;
            return req;
          }),
    },
    {
      name: 'GET /2010-04-01{.json,.xml,.csv,} (Version)',
      arb: () =>
        fc.tuple(fc.constantFrom('', '.json', '.xml', '.csv', '/', '.JSON', '.txt'), queryArb(ACCOUNT_PARAMS), authArb(), extraHeadersArb()).map(([ext, q, a, h]) =>
          request('GET', `/2010-04-01${ext}${q}`, a, h),
        ),
    },
    {
      name: 'GET /v1/Events',
      arb: () => fc.tuple(queryArb(EVENT_PARAMS), authArb(), extraHeadersArb()).map(([q, a, h]) => request('GET', `/v1/Events${q}`, a, h)),
    },
    {
      name: 'GET /v1/Events/{Sid}',
      arb: () => fc.tuple(sidArb('AE'), queryArb(EVENT_PARAMS), authArb(), extraHeadersArb()).map(([s, q, a, h]) => request('GET', `/v1/Events/${s}${q}`, a, h)),
    },
    {
      name: 'other verbs on every path',
      arb: () =>
        fc
          .tuple(
            fc.constantFrom(...OTHER_METHODS),
            fc.constantFrom(
              '/2010-04-01/Accounts.json',
              '/2010-04-01/Accounts/{AC}.json',
              '/2010-04-01/Accounts',
              '/2010-04-01/Accounts/{AC}.xml',
              '/2010-04-01/Accounts.csv',
              '/2010-04-01',
              '/v1/Events',
              '/v1/Events/{AE}',
              '/health/live',
              '/health/ready',
              '/metrics',
            ),
            sidArb('AC'),
            sidArb('AE'),
            authArb(),
            extraHeadersArb(),
            fc.option(bodyArb(['FriendlyName', 'Status']), { nil: undefined }),
          )
          .map(([m, p, ac, ae, a, h, b]) => request(m, p.replace('{AC}', ac).replace('{AE}', ae), a, h, m === 'GET' || m === 'HEAD' || m === 'TRACE' ? undefined : b)),
    },
    {
      name: 'any path',
      arb: () =>
        fc
          .tuple(
            fc.constantFrom('GET', 'POST', 'DELETE'),
            fc.constantFrom('/', '/2010-04-01/', '/2010-04-01/Accounts/', '/v1/', '/v1/Events/', '/2010-04-01/Accounts/{AC}/', '/health/', '//', '/2010-04-01/Accounts.json/'),
            sidArb('AC'),
            rawPathText(60),
            authArb(),
          )
          .map(([m, prefix, ac, rest, a]) => request(m, `${prefix.replace('{AC}', ac)}${rest}`, a, {})),
    },
  ];

  /**
   * A body the service labels XML or CSV must be one: every XML document read by a strict XML 1.0
   * parser (saxes), every CSV by an RFC 4180 parser (csv-parse). A 2xx under /2010-04-01 comes in
   * the format its URL's suffix names. Returns what it parsed, for the figures.
   */
  function checkRepresentation(req: FuzzRequest, o: Extract<Outcome, { kind: 'response' }>, shown: string): 'xml' | 'csv' | null {
    const type = String(o.headers['content-type'] ?? '');
    const path = req.path.split('?')[0];
    if (o.status < 300 && path.startsWith('/2010-04-01') && type !== MEDIA_TYPES[representationOfPath(path)]) {
      throw new Error(`${o.status} as ${type}, expected ${MEDIA_TYPES[representationOfPath(path)]}: ${shown}`);
    }
    if (req.method === 'HEAD') return null;
    try {
      if (type.startsWith('application/xml')) {
        const { version, root } = parseXml(o.text);
        if (version !== '1.0' || root.name !== 'TwilioResponse') throw new Error(`not a TwilioResponse document: ${o.text.slice(0, 200)}`);
        return 'xml';
      }
      if (type.startsWith('text/csv')) {
        parseCsv(o.text);
        return 'csv';
      }
    } catch (error) {
      throw new Error(`${o.status} with a malformed ${type} body (${(error as Error).message}) to ${shown}: ${JSON.stringify(o.text.slice(0, 300))}`);
    }
    return null;
  }

  /** The rename's answer names the account exactly as asked, in whichever format it came. */
  function checkName(expected: string, o: Extract<Outcome, { kind: 'response' }>, shown: string): void {
    if (o.status !== 200) throw new Error(`a valid rename answered ${o.status} ${o.text.slice(0, 300)}: ${shown}`);
    const type = String(o.headers['content-type'] ?? '');
    let got: string;
    let want = expected;
    if (type.startsWith('application/xml')) {
      const account = parseXml(o.text).root.children[0];
      got = account.children.find((c) => c.name === 'FriendlyName')?.text ?? '<none>';
      want = expected.replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '\ufffd');
    } else if (type.startsWith('text/csv')) {
      got = csvRecords(o.text)[0]?.FriendlyName ?? '<none>';
    } else {
      got = o.json?.friendly_name;
    }
    if (got !== want) throw new Error(`renamed to ${JSON.stringify(expected)}, answered ${JSON.stringify(got)} as ${type}: ${shown}`);
  }

  it(`${endpoints.length} endpoints × ${RUNS} inputs: no 5xx, never malformed XML or CSV, every 4xx in Twilio's envelope and without effect`, async () => {
    const figures: Record<string, number | string> = {
      endpoints: endpoints.length,
      'inputs/endpoint': RUNS,
      inputs: 0,
      '2xx': 0,
      '4xx': 0,
      'XML documents parsed': 0,
      'CSV documents parsed': 0,
      'refused by the client': 0,
      seed: SEED,
    };
    let held = '';
    const failures: string[] = [];
    try {
      for (const [index, endpoint] of endpoints.entries()) {
        // RELIABILITY_FUZZ_ONLY=<part of an endpoint's name> with RELIABILITY_SEED replays one endpoint's run.
        if (process.env.RELIABILITY_FUZZ_ONLY && !endpoint.name.includes(process.env.RELIABILITY_FUZZ_ONLY)) continue;
        const seed = SEED + index;
        const run = fc.assert(
          fc.asyncProperty(endpoint.arb(), async (req) => {
            const before = await fingerprint();
            // A fresh connection each time: one input cannot leave anything behind for the next.
            const o: Outcome = await send(t.baseUrl, req.path, { method: req.method, headers: req.headers, body: req.body, timeoutMs: 15_000 });
            if (process.env.FUZZ_TRACE) console.log(show(req), describeOutcome(o).slice(0, 100));
            figures.inputs = (figures.inputs as number) + 1;
            if (o.kind === 'connect' && o.code.startsWith('ERR_')) {
              // Node refused to send it (not a request a client could make): nothing to judge.
              figures['refused by the client'] = (figures['refused by the client'] as number) + 1;
              return;
            }
            const shown = show(req);
            if (o.kind !== 'response') throw new Error(`no answer (${describeOutcome(o)}) to ${shown}`);
            if (o.status >= 500) throw new Error(`${o.status} to ${shown}: ${o.text.slice(0, 300)}`);
            const parsed = checkRepresentation(req, o, shown);
            if (req.expectName !== undefined) checkName(req.expectName, o, shown);
            if (parsed === 'xml') figures['XML documents parsed'] = (figures['XML documents parsed'] as number) + 1;
            if (parsed === 'csv') figures['CSV documents parsed'] = (figures['CSV documents parsed'] as number) + 1;
            if (o.status >= 400) {
              figures['4xx'] = (figures['4xx'] as number) + 1;
              if (req.method !== 'HEAD' && !isTwilioError(o)) throw new Error(`${o.status} without Twilio's envelope to ${shown}: ${o.text.slice(0, 300)}`);
              const after = await fingerprint();
              if (after !== before) throw new Error(`a ${o.status} changed the database (${before} → ${after}): ${shown}`);
            } else {
              figures['2xx'] = (figures['2xx'] as number) + 1;
            }
          }),
          { numRuns: RUNS, seed, interruptAfterTimeLimit: byProfile({ ci: 60_000, full: 1_200_000 }), markInterruptAsFailure: true, includeErrorInReport: true },
        );
        await run.catch((error: Error) =>
          failures.push(`${endpoint.name} (RELIABILITY_SEED=${SEED}; fast-check seed ${seed}):\n${error.message.replace(/(\d+,){40,}/g, '…,').slice(0, 4000)}`),
        );
      }
      expect(failures).toEqual([]);
      held = 'no 5xx; every XML and CSV body well-formed, in the format its suffix asks for; every 4xx in Twilio envelope, events/keys/read model unchanged';
    } finally {
      recordResult({ item: 5, title: 'Fuzzing (fast-check)', figures, held });
    }
  }, byProfile({ ci: 240_000, full: 7_200_000 }));
});
