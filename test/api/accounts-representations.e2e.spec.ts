import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { child, csvRecords, parseCsv, parseXml, textsOf, type XmlNode } from '../support/wire-formats';
import { accountPath, eventCount, LIST_PATH, raw, type RawRequest, type RawResponse } from './accounts-api.helpers';

/**
 * The 2010 API's other representations (XML with and without `.xml`, CSV), operation by operation
 * against the JSON answer to the same request: parsed with a strict XML parser (saxes) and an
 * RFC 4180 CSV parser (csv-parse), never with regular expressions.
 */

/** JSON key → XML element / CSV column, written out here independently of the service's table. */
const FIELDS: [string, string][] = [
  ['sid', 'Sid'],
  ['friendly_name', 'FriendlyName'],
  ['owner_account_sid', 'OwnerAccountSid'],
  ['type', 'Type'],
  ['status', 'Status'],
  ['date_created', 'DateCreated'],
  ['date_updated', 'DateUpdated'],
  ['auth_token', 'AuthToken'],
  ['uri', 'Uri'],
];
const noExtension = (uri: string) => uri.replace(/\.json(?=\?|$)/, '');

/** Every field of an `<Account>` equal to the JSON account's (URIs without `.json`). */
function expectXmlAccount(node: XmlNode, json: Record<string, any>) {
  expect(node.name).toBe('Account');
  expect(node.children.map((c) => c.name)).toEqual([...FIELDS.map(([, x]) => x), 'SubresourceUris']);
  const fields = textsOf(node);
  for (const [key, name] of FIELDS) expect([name, fields[name]]).toEqual([name, key === 'uri' ? noExtension(json.uri) : json[key]]);
  const subresources = child(node, 'SubresourceUris').children;
  expect(subresources.map((s) => s.text)).toEqual(Object.values(json.subresource_uris as Record<string, string>).map(noExtension));
}

/** Every CSV column equal to the JSON account's field (Uri as in JSON; no SubresourceUris column). */
function expectCsvAccount(record: Record<string, string>, json: Record<string, any>) {
  expect(Object.keys(record)).toEqual(FIELDS.map(([, x]) => x));
  for (const [key, name] of FIELDS) expect([name, record[name]]).toEqual([name, json[key]]);
}

function xmlOf(res: RawResponse, status: number): XmlNode {
  expect([res.status, res.headers.get('content-type')]).toEqual([status, 'application/xml; charset=utf-8']);
  const document = parseXml(res.text);
  expect(document.version).toBe('1.0');
  expect(document.root.name).toBe('TwilioResponse');
  expect(document.root.children).toHaveLength(1);
  return document.root.children[0];
}

function csvOf(res: RawResponse, status: number): Record<string, string>[] {
  expect([res.status, res.headers.get('content-type')]).toEqual([status, 'text/csv; charset=utf-8']);
  return csvRecords(res.text);
}

function expectXmlError(res: RawResponse, status: number, code: number) {
  const exception = xmlOf(res, status);
  expect(exception.name).toBe('RestException');
  expect(exception.children.map((c) => c.name)).toEqual(['Status', 'Message', 'Code', 'MoreInfo']);
  const fields = textsOf(exception);
  expect(fields).toMatchObject({ Status: String(status), Code: String(code), MoreInfo: `https://www.twilio.com/docs/errors/${code}` });
  expect(fields.Message.length).toBeGreaterThan(0);
  return fields;
}

describe('Accounts in XML and CSV: the same operations as JSON, equal in content', () => {
  let t: TestApp;
  let main: AccountRecord;
  const json = async (path: string, request: RawRequest = {}) => (await raw(t, path, { as: main, ...request })).json;

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
  });
  afterAll(() => t.close());

  it.each(['', '.xml'])('create (POST /Accounts%s): 201 XML, equal to the account as JSON fetches it', async (suffix) => {
    const res = await raw(t, `/2010-04-01/Accounts${suffix}`, { as: main, body: { FriendlyName: `created ${suffix || 'bare'}` } });
    const account = xmlOf(res, 201);
    const sid = textsOf(account).Sid;
    expectXmlAccount(account, await json(accountPath(sid)));
    expect(textsOf(account).FriendlyName).toBe(`created ${suffix || 'bare'}`);
  });

  it('create (POST /Accounts.csv): 201 CSV, one row equal to the JSON account; a JSON body works the same', async () => {
    const rows = csvOf(await raw(t, '/2010-04-01/Accounts.csv', { as: main, body: { FriendlyName: 'created csv' } }), 201);
    expect(rows).toHaveLength(1);
    expectCsvAccount(rows[0], await json(accountPath(rows[0].Sid)));
    const fromJson = await raw(t, '/2010-04-01/Accounts.xml', { as: main, body: JSON.stringify({ FriendlyName: 'json body' }), contentType: 'application/json' });
    expect(textsOf(xmlOf(fromJson, 201)).FriendlyName).toBe('json body');
  });

  it('fetch (GET /Accounts/{Sid}, .xml, .csv): equal to GET .json, for the caller and a subaccount', async () => {
    const sub = await json(LIST_PATH, { body: { FriendlyName: 'fetched' } });
    for (const sid of [main.sid, sub.sid]) {
      const expected = await json(accountPath(sid));
      expectXmlAccount(xmlOf(await raw(t, `/2010-04-01/Accounts/${sid}`, { as: main }), 200), expected);
      expectXmlAccount(xmlOf(await raw(t, `/2010-04-01/Accounts/${sid}.xml`, { as: main }), 200), expected);
      const rows = csvOf(await raw(t, `/2010-04-01/Accounts/${sid}.csv`, { as: main }), 200);
      expect(rows).toHaveLength(1);
      expectCsvAccount(rows[0], expected);
    }
  });

  it('update (POST /Accounts/{Sid}, .xml, .csv): renames and changes status, answer equal to GET .json', async () => {
    const sub = await json(LIST_PATH, { body: { FriendlyName: 'to update' } });
    const xml = xmlOf(await raw(t, `/2010-04-01/Accounts/${sub.sid}`, { as: main, body: { FriendlyName: 'renamed in xml' } }), 200);
    expectXmlAccount(xml, await json(accountPath(sub.sid)));
    expect(textsOf(xml).FriendlyName).toBe('renamed in xml');
    const suspended = xmlOf(await raw(t, `/2010-04-01/Accounts/${sub.sid}.xml`, { as: main, body: { Status: 'suspended' } }), 200);
    expect(textsOf(suspended).Status).toBe('suspended');
    const rows = csvOf(await raw(t, `/2010-04-01/Accounts/${sub.sid}.csv`, { as: main, body: { FriendlyName: 'renamed in csv', Status: 'active' } }), 200);
    expectCsvAccount(rows[0], await json(accountPath(sub.sid)));
    expect([rows[0].FriendlyName, rows[0].Status]).toEqual(['renamed in csv', 'active']);
  });

  it('list (GET /Accounts, .xml): paging attributes equal to the JSON envelope, each account equal, nextpageuri walks in XML', async () => {
    for (let i = 0; i < 3; i++) await json(LIST_PATH, { body: { FriendlyName: `page filler ${i}` } });
    const query = '?PageSize=2';
    let jsonPage = await json(`${LIST_PATH}${query}`);
    let xmlPath: string | null = `/2010-04-01/Accounts${query}`;
    let pages = 0;
    while (xmlPath) {
      const list = xmlOf(await raw(t, xmlPath, { as: main }), 200);
      expect(list.name).toBe('Accounts');
      expect(list.attributes).toEqual({
        page: String(jsonPage.page),
        pagesize: String(jsonPage.page_size),
        start: String(jsonPage.start),
        end: String(jsonPage.end),
        uri: noExtension(jsonPage.uri),
        firstpageuri: noExtension(jsonPage.first_page_uri),
        previouspageuri: jsonPage.previous_page_uri === null ? '' : noExtension(jsonPage.previous_page_uri),
        nextpageuri: jsonPage.next_page_uri === null ? '' : noExtension(jsonPage.next_page_uri),
      });
      expect(list.children).toHaveLength(jsonPage.accounts.length);
      list.children.forEach((node, i) => expectXmlAccount(node, jsonPage.accounts[i]));
      pages++;
      xmlPath = list.attributes.nextpageuri || null;
      if (xmlPath) jsonPage = await json(jsonPage.next_page_uri);
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    // The .xml suffix answers the same document.
    expect((await raw(t, `/2010-04-01/Accounts.xml${query}`, { as: main })).text).toBe((await raw(t, `/2010-04-01/Accounts${query}`, { as: main })).text);
  });

  it('list (GET /Accounts.csv): one row per account of the page, in order, equal to JSON; filters apply; no paging data', async () => {
    const page = await json(`${LIST_PATH}?PageSize=3`);
    const rows = csvOf(await raw(t, '/2010-04-01/Accounts.csv?PageSize=3', { as: main }), 200);
    expect(rows).toHaveLength(page.accounts.length);
    rows.forEach((row, i) => expectCsvAccount(row, page.accounts[i]));
    const filtered = csvOf(await raw(t, '/2010-04-01/Accounts.csv?FriendlyName=renamed%20in%20csv', { as: main }), 200);
    expect(filtered.map((r) => r.FriendlyName)).toEqual(['renamed in csv']);
    const empty = await raw(t, '/2010-04-01/Accounts.csv?FriendlyName=nobody', { as: main });
    expect(parseCsv(empty.text)).toEqual([FIELDS.map(([, x]) => x)]);
    const emptyXml = xmlOf(await raw(t, '/2010-04-01/Accounts?FriendlyName=nobody', { as: main }), 200);
    expect([emptyXml.children.length, emptyXml.attributes.nextpageuri, emptyXml.attributes.previouspageuri]).toEqual([0, '', '']);
  });

  it('hostile names come back unchanged in JSON, XML and CSV (XML 1.0 cannot carry C0 controls: U+FFFD there)', async () => {
    const names = ['<script>alert(1)</script>', 'a & b &amp; &lt;', '"quoted", \'single\'', ']]>', '=1+1', '+SUM(A1)', '-2', '@cmd', "'=quoted", 'tab\tline\nreturn\r', '😀 emoji 𝒜 café', 'ctrl\u0001\u001f\u007f'];
    for (const name of names) {
      const created = await json(LIST_PATH, { body: { FriendlyName: name } });
      expect(created.friendly_name).toBe(name);
      const xmlName = textsOf(xmlOf(await raw(t, `/2010-04-01/Accounts/${created.sid}`, { as: main }), 200)).FriendlyName;
      expect([name, xmlName]).toEqual([name, name.replace(/[\u0001-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')]);
      const csv = await raw(t, `/2010-04-01/Accounts/${created.sid}.csv`, { as: main });
      expect([name, csvOf(csv, 200)[0].FriendlyName]).toEqual([name, name]);
      // A cell a spreadsheet would run as a formula starts with an apostrophe.
      const [, row] = parseCsv(csv.text);
      if (/^[=+\-@']/.test(name)) expect(row[1]).toBe(`'${name}`);
      else expect(row[1]).toBe(name);
    }
  });

  it('errors come in the requested format: <RestException> for XML, a CSV row for CSV, JSON for .json', async () => {
    const unauthenticated = await raw(t, '/2010-04-01/Accounts');
    expect(expectXmlError(unauthenticated, 401, 20003)).toBeDefined();
    expect(unauthenticated.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    expectXmlError(await raw(t, `/2010-04-01/Accounts/AC${'0'.repeat(32)}.xml`, { as: main }), 404, 20404);
    expectXmlError(await raw(t, `/2010-04-01/Accounts/${main.sid}.html`, { as: main }), 404, 20404);
    expect(expectXmlError(await raw(t, '/2010-04-01/Nothing/<here>', { as: main }), 404, 20404).Message).toContain('/2010-04-01/Nothing/');
    expectXmlError(await raw(t, '/2010-04-01/Accounts?Status=bogus', { as: main }), 400, 21475);
    expectXmlError(await raw(t, '/2010-04-01/Accounts?PageSize=1001', { as: main }), 400, 20007);
    const before = await eventCount(t);
    expectXmlError(await raw(t, '/2010-04-01/Accounts.xml', { as: main, body: { FriendlyName: 'x'.repeat(65) } }), 400, 20002);
    expectXmlError(await raw(t, `/2010-04-01/Accounts/${main.sid}`, { as: main, body: { Status: 'suspended' } }), 400, 21477);
    const notAllowed = await raw(t, '/2010-04-01/Accounts', { as: main, method: 'DELETE' });
    expectXmlError(notAllowed, 405, 20004);
    expect(notAllowed.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(await eventCount(t)).toBe(before);

    const csv = await raw(t, '/2010-04-01/Accounts.csv?Status=bogus', { as: main });
    expect(csvOf(csv, 400)).toEqual([{ Status: '400', Message: expect.any(String), Code: '21475', MoreInfo: 'https://www.twilio.com/docs/errors/21475' }]);
    const jsonError = await raw(t, `${LIST_PATH}?Status=bogus`, { as: main });
    expect([jsonError.status, jsonError.headers.get('content-type'), jsonError.json.code]).toEqual([400, 'application/json; charset=utf-8', 21475]);
  });

  it('the suffix alone chooses: an Accept header changes nothing', async () => {
    const asJson = await raw(t, accountPath(main.sid), { as: main, headers: { accept: 'application/xml' } });
    expect([asJson.headers.get('content-type'), asJson.json.sid]).toEqual(['application/json; charset=utf-8', main.sid]);
    const asXml = await raw(t, `/2010-04-01/Accounts/${main.sid}`, { as: main, headers: { accept: 'application/json' } });
    expect(textsOf(xmlOf(asXml, 200)).Sid).toBe(main.sid);
  });

  it('GET /2010-04-01 (no credentials needed): the Version resource in XML, JSON and CSV', async () => {
    for (const path of ['/2010-04-01', '/2010-04-01.xml']) {
      const version = xmlOf(await raw(t, path), 200);
      expect(version.name).toBe('Version');
      expect(textsOf(version)).toMatchObject({ Name: '2010-04-01', Uri: '/2010-04-01' });
      expect(textsOf(child(version, 'SubresourceUris'))).toEqual({ Accounts: '/2010-04-01/Accounts' });
    }
    const asJson = await raw(t, '/2010-04-01.json');
    expect([asJson.status, asJson.json]).toEqual([200, { name: '2010-04-01', uri: '/2010-04-01.json', subresource_uris: { accounts: '/2010-04-01/Accounts.json' } }]);
    // The JSON version's link leads to the JSON list.
    expect((await raw(t, asJson.json.subresource_uris.accounts, { as: main })).json.accounts.length).toBeGreaterThan(0);
    expect(csvOf(await raw(t, '/2010-04-01.csv'), 200)).toEqual([{ Name: '2010-04-01', Uri: '/2010-04-01.json' }]);
  });

  it('Monitor v1 and our /v1 additions stay JSON only', async () => {
    const events = await raw(t, '/v1/Events', { as: main, headers: { accept: 'application/xml' } });
    expect([events.status, events.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    const xmlSuffix = await raw(t, '/v1/Events.xml', { as: main });
    expect([xmlSuffix.status, xmlSuffix.headers.get('content-type'), xmlSuffix.json.code]).toEqual([404, 'application/json; charset=utf-8', 20404]);
    const history = await raw(t, `/v1/Accounts/${main.sid}/History.xml`, { as: main });
    expect([history.status, history.json?.code]).toEqual([404, 20404]);
  });
});
