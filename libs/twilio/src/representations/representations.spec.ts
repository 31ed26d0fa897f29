import { child, csvRecords, parseCsv, parseXml, textsOf } from '../../../../test/support/wire-formats';
import { toAccountPage } from '../account-page.envelope';
import { toAccountResource, type AccountView } from '../account.resource';
import { TwilioErrors } from '../twilio.error';
import {
  ACCOUNT_CSV_HEADER,
  accountCsv,
  accountPageCsv,
  accountPageXml,
  accountXml,
  formulaSafe,
  representationOfPath,
  restExceptionCsv,
  restExceptionXml,
  uriWithoutExtension,
  versionCsv,
  versionResource,
  versionXml,
  withoutSuffix,
} from './index';

const view = (friendlyName: string, n = 1): AccountView => ({
  sid: `AC${n.toString(16).padStart(32, '0')}`,
  ownerAccountSid: `AC${'a'.repeat(32)}`,
  friendlyName,
  status: 'suspended',
  type: 'Full',
  authToken: 'f'.repeat(32),
  dateCreated: new Date(Date.UTC(2020, 0, 1, 0, 0, n)),
  dateUpdated: new Date(Date.UTC(2020, 0, 2, 0, 0, n)),
});

const HOSTILE = ['<b>&amp;</b>', 'a & b', '"quoted", \'single\'', ']]>', 'tab\there', 'line\nbreak', 'cr\rlf\r\n', '=1+1', '+1', '-1', '@SUM(A1)', "'=1", '😀 emoji 𝒜', 'café ☕'];

describe('choosing the representation', () => {
  it.each([
    ['/2010-04-01', 'xml'],
    ['/2010-04-01.json', 'json'],
    ['/2010-04-01.xml', 'xml'],
    ['/2010-04-01.csv', 'csv'],
    ['/2010-04-01/Accounts', 'xml'],
    ['/2010-04-01/Accounts.json', 'json'],
    ['/2010-04-01/Accounts.xml', 'xml'],
    ['/2010-04-01/Accounts.csv', 'csv'],
    ['/2010-04-01/Accounts/AC1.csv', 'csv'],
    ['/2010-04-01/Nothing.html', 'xml'],
    ['/2010-04-01/Accounts.JSON', 'xml'],
    ['/v1/Events', 'json'],
    ['/v1/Events.xml', 'json'],
    ['/2010-04-011/Accounts.xml', 'json'],
    ['/health/live', 'json'],
  ])('%s → %s', (path, expected) => {
    expect(representationOfPath(path)).toBe(expected);
  });

  it('strips exactly one known suffix', () => {
    expect(withoutSuffix('AC1.json')).toEqual({ name: 'AC1', representation: 'json' });
    expect(withoutSuffix('AC1')).toEqual({ name: 'AC1', representation: 'xml' });
    expect(withoutSuffix('AC1.csv.json').name).toBe('AC1.csv');
    expect(uriWithoutExtension('/2010-04-01/Accounts.json?PageSize=5&Page=1')).toBe('/2010-04-01/Accounts?PageSize=5&Page=1');
    expect(uriWithoutExtension('/2010-04-01/Accounts?X=a.json')).toBe('/2010-04-01/Accounts?X=a.json');
  });
});

describe('XML', () => {
  it('an account: the declaration, <TwilioResponse><Account>, every field equal to the JSON one, URIs without .json', () => {
    const json = toAccountResource(view('Do you like my friendly name?'));
    const text = accountXml(json);
    expect(text.startsWith('<?xml version="1.0"?><TwilioResponse><Account><Sid>')).toBe(true);
    const { version, root } = parseXml(text);
    expect(version).toBe('1.0');
    expect(root.name).toBe('TwilioResponse');
    const account = child(root, 'Account');
    expect(account.children.map((c) => c.name)).toEqual([
      'Sid', 'FriendlyName', 'OwnerAccountSid', 'Type', 'Status', 'DateCreated', 'DateUpdated', 'AuthToken', 'Uri', 'SubresourceUris',
    ]);
    const fields = textsOf(account);
    expect(fields).toMatchObject({
      Sid: json.sid,
      FriendlyName: json.friendly_name,
      OwnerAccountSid: json.owner_account_sid,
      Type: 'Full',
      Status: 'suspended',
      DateCreated: 'Wed, 01 Jan 2020 00:00:01 +0000',
      DateUpdated: 'Thu, 02 Jan 2020 00:00:01 +0000',
      AuthToken: json.auth_token,
      Uri: `/2010-04-01/Accounts/${json.sid}`,
    });
    const subresources = child(account, 'SubresourceUris').children;
    expect(subresources).toHaveLength(20);
    expect(textsOf(child(account, 'SubresourceUris'))).toMatchObject({
      Calls: `/2010-04-01/Accounts/${json.sid}/Calls`,
      ShortCodes: `/2010-04-01/Accounts/${json.sid}/SMS/ShortCodes`,
      SIP: `/2010-04-01/Accounts/${json.sid}/SIP`,
    });
    expect(subresources.map((s) => s.text)).toEqual(Object.values(json.subresource_uris).map((u) => u.replace(/\.json$/, '')));
  });

  it.each(HOSTILE)('a hostile name survives a strict parser unchanged: %j', (name) => {
    const fields = textsOf(child(parseXml(accountXml(toAccountResource(view(name)))).root, 'Account'));
    expect(fields.FriendlyName).toBe(name);
  });

  it('characters XML 1.0 cannot carry become U+FFFD; the document stays well-formed', () => {
    const name = 'a\u0001b\u001fc\u007fd\ufffee';
    const fields = textsOf(child(parseXml(accountXml(toAccountResource(view(name)))).root, 'Account'));
    // U+007F is allowed in XML 1.0 and kept.
    expect(fields.FriendlyName).toBe('a\ufffdb\ufffdc\u007fd\ufffde');
  });

  it('a page: lowercase paging attributes, "" for none, &amp; in URIs, one <Account> per item', () => {
    const json = toAccountPage({ items: [view('one', 1), view('two', 2)], pageSize: 2, page: 1, filters: { Status: 'suspended' }, nextToken: 'PAx', previousToken: 'PBy' });
    const text = accountPageXml(json);
    expect(text).toContain('&amp;PageSize=2');
    const accounts = child(parseXml(text).root, 'Accounts');
    expect(accounts.attributes).toEqual({
      page: '1',
      pagesize: '2',
      start: '2',
      end: '3',
      uri: '/2010-04-01/Accounts?Status=suspended&PageSize=2&Page=1',
      firstpageuri: '/2010-04-01/Accounts?Status=suspended&PageSize=2&Page=0',
      previouspageuri: '/2010-04-01/Accounts?Status=suspended&PageSize=2&Page=0&PageToken=PBy',
      nextpageuri: '/2010-04-01/Accounts?Status=suspended&PageSize=2&Page=2&PageToken=PAx',
    });
    expect(accounts.children.map((a) => textsOf(a).FriendlyName)).toEqual(['one', 'two']);
    const empty = toAccountPage({ items: [], pageSize: 50, page: 0, filters: {} });
    const emptyXml = accountPageXml(empty);
    expect(emptyXml).toMatch(/<Accounts [^>]*\/><\/TwilioResponse>$/);
    expect(child(parseXml(emptyXml).root, 'Accounts').attributes).toMatchObject({ previouspageuri: '', nextpageuri: '', start: '0', end: '0' });
  });

  it('an error: <RestException> with Status, Message, Code, MoreInfo in that order', () => {
    const { root } = parseXml(restExceptionXml(TwilioErrors.notFound('/2010-04-01/Accounts/<x>&')));
    const exception = child(root, 'RestException');
    expect(exception.children.map((c) => c.name)).toEqual(['Status', 'Message', 'Code', 'MoreInfo']);
    expect(textsOf(exception)).toEqual({
      Status: '404',
      Message: 'The requested resource /2010-04-01/Accounts/<x>& was not found',
      Code: '20404',
      MoreInfo: 'https://www.twilio.com/docs/errors/20404',
    });
  });

  it('the Version resource, as Twilio answers GET /2010-04-01', () => {
    expect(versionXml(versionResource())).toBe(
      '<?xml version="1.0"?><TwilioResponse><Version><Name>2010-04-01</Name><Uri>/2010-04-01</Uri><SubresourceUris><Accounts>/2010-04-01/Accounts</Accounts></SubresourceUris></Version></TwilioResponse>',
    );
    expect(versionResource()).toEqual({ name: '2010-04-01', uri: '/2010-04-01.json', subresource_uris: { accounts: '/2010-04-01/Accounts.json' } });
    expect(csvRecords(versionCsv(versionResource()))).toEqual([{ Name: '2010-04-01', Uri: '/2010-04-01.json' }]);
  });
});

describe('CSV', () => {
  it('an account: a header row and one row, CRLF, every field but SubresourceUris equal to the JSON one', () => {
    const json = toAccountResource(view('Sales'));
    const text = accountCsv(json);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n')[0]).toBe('Sid,FriendlyName,OwnerAccountSid,Type,Status,DateCreated,DateUpdated,AuthToken,Uri');
    // Dates hold a comma: quoted.
    expect(text).toContain('"Wed, 01 Jan 2020 00:00:01 +0000"');
    expect(csvRecords(text)).toEqual([
      {
        Sid: json.sid,
        FriendlyName: 'Sales',
        OwnerAccountSid: json.owner_account_sid,
        Type: 'Full',
        Status: 'suspended',
        DateCreated: json.date_created,
        DateUpdated: json.date_updated,
        AuthToken: json.auth_token,
        Uri: json.uri,
      },
    ]);
  });

  it.each(HOSTILE)('a hostile name round-trips through a strict RFC 4180 parser: %j', (name) => {
    const [record] = csvRecords(accountCsv(toAccountResource(view(name))));
    expect(record.FriendlyName).toBe(name);
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', "'=1"])('a cell a spreadsheet would run (%j) starts with an apostrophe', (name) => {
    const [, row] = parseCsv(accountCsv(toAccountResource(view(name))));
    expect(row[ACCOUNT_CSV_HEADER.indexOf('FriendlyName')]).toBe(`'${name}`);
  });

  it('formulaSafe leaves ordinary text alone', () => {
    expect(['Sales', 'a=b', '1+1', ' =x', ''].map(formulaSafe)).toEqual(['Sales', 'a=b', '1+1', ' =x', '']);
  });

  it('a list: one row per account and no paging data; an empty list is the header alone', () => {
    const page = toAccountPage({ items: [view('one', 1), view('two', 2)], pageSize: 2, page: 0, filters: {}, nextToken: 'PAx' });
    expect(csvRecords(accountPageCsv(page)).map((r) => r.FriendlyName)).toEqual(['one', 'two']);
    expect(accountPageCsv(toAccountPage({ items: [], pageSize: 2, page: 0, filters: {} }))).toBe(`${ACCOUNT_CSV_HEADER.join(',')}\r\n`);
  });

  it('an error: Status, Message, Code, MoreInfo', () => {
    expect(csvRecords(restExceptionCsv(TwilioErrors.invalidStatus()))).toEqual([
      { Status: '400', Message: 'Status must be one of active, suspended, closed', Code: '21475', MoreInfo: 'https://www.twilio.com/docs/errors/21475' },
    ]);
  });
});
