import type { AccountView } from './account.resource';
import { toAccountPage } from './account-page.envelope';

const SID = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

function account(n: number): AccountView {
  const sid = `AC${n.toString(16).padStart(32, '0')}`;
  return {
    sid,
    ownerAccountSid: SID,
    friendlyName: `sub ${n}`,
    status: 'active',
    type: 'Full',
    authToken: 'f'.repeat(32),
    dateCreated: new Date(Date.UTC(2020, 0, 1, 0, 0, n)),
    dateUpdated: new Date(Date.UTC(2020, 0, 1, 0, 0, n)),
  };
}

describe('toAccountPage', () => {
  it('matches the spec readEmpty example', () => {
    expect(toAccountPage({ items: [], pageSize: 50, page: 0, filters: { FriendlyName: 'friendly_name', Status: 'active' } })).toEqual({
      first_page_uri: '/2010-04-01/Accounts.json?FriendlyName=friendly_name&Status=active&PageSize=50&Page=0',
      end: 0,
      previous_page_uri: null,
      accounts: [],
      uri: '/2010-04-01/Accounts.json?FriendlyName=friendly_name&Status=active&PageSize=50&Page=0',
      page_size: 50,
      start: 0,
      next_page_uri: null,
      page: 0,
    });
  });

  it('has only the envelope keys, with accounts as the one array', () => {
    const page = toAccountPage({ items: [account(1)], pageSize: 50, page: 0, filters: {} });
    expect(Object.keys(page).sort()).toEqual([
      'accounts', 'end', 'first_page_uri', 'next_page_uri', 'page', 'page_size', 'previous_page_uri', 'start', 'uri',
    ]);
    expect(Object.values(page).filter(Array.isArray)).toHaveLength(1);
    expect(page.accounts[0]!.sid).toBe(account(1).sid);
    expect(page.uri).toBe('/2010-04-01/Accounts.json?PageSize=50&Page=0');
  });

  it('computes start/end and links both neighbours, carrying filters and tokens', () => {
    const page = toAccountPage({
      items: [account(3), account(4)],
      pageSize: 2,
      page: 1,
      filters: { FriendlyName: 'a b&c', Status: 'closed' },
      pageToken: 'PAcurrent',
      nextToken: 'PAnext',
      previousToken: 'PBprev',
    });
    expect(page.start).toBe(2);
    expect(page.end).toBe(3);
    expect(page.uri).toBe('/2010-04-01/Accounts.json?FriendlyName=a%20b%26c&Status=closed&PageSize=2&Page=1&PageToken=PAcurrent');
    expect(page.first_page_uri).toBe('/2010-04-01/Accounts.json?FriendlyName=a%20b%26c&Status=closed&PageSize=2&Page=0');
    expect(page.next_page_uri).toBe('/2010-04-01/Accounts.json?FriendlyName=a%20b%26c&Status=closed&PageSize=2&Page=2&PageToken=PAnext');
    expect(page.previous_page_uri).toBe('/2010-04-01/Accounts.json?FriendlyName=a%20b%26c&Status=closed&PageSize=2&Page=0&PageToken=PBprev');
    const next = new URL(page.next_page_uri!, 'http://x');
    expect(next.searchParams.get('FriendlyName')).toBe('a b&c');
  });

  it('reports end = start on an empty later page', () => {
    const page = toAccountPage({ items: [], pageSize: 10, page: 3, filters: {} });
    expect(page.start).toBe(30);
    expect(page.end).toBe(30);
  });
});
