import { ACCOUNT_SUBRESOURCES, accountUri, toAccountResource, type AccountView } from './account.resource';

// The `create` example of Twilio's api_v2010 OpenAPI spec (twilio-oai, MIT), verbatim.
const SPEC_EXAMPLE = {
  auth_token: 'auth_token',
  date_created: 'Thu, 30 Jul 2015 20:00:00 +0000',
  date_updated: 'Thu, 30 Jul 2015 20:00:00 +0000',
  friendly_name: 'friendly_name',
  owner_account_sid: 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  sid: 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  status: 'active',
  subresource_uris: {
    available_phone_numbers: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/AvailablePhoneNumbers.json',
    calls: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Calls.json',
    conferences: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Conferences.json',
    incoming_phone_numbers: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/IncomingPhoneNumbers.json',
    notifications: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Notifications.json',
    outgoing_caller_ids: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/OutgoingCallerIds.json',
    recordings: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Recordings.json',
    transcriptions: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Transcriptions.json',
    addresses: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Addresses.json',
    signing_keys: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/SigningKeys.json',
    connect_apps: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ConnectApps.json',
    sip: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/SIP.json',
    authorized_connect_apps: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/AuthorizedConnectApps.json',
    usage: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Usage.json',
    keys: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Keys.json',
    applications: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Applications.json',
    short_codes: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/SMS/ShortCodes.json',
    queues: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Queues.json',
    messages: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json',
    balance: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Balance.json',
  },
  type: 'Full',
  uri: '/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json',
};

const SID = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

function view(overrides: Partial<AccountView> = {}): AccountView {
  return {
    sid: SID,
    ownerAccountSid: SID,
    friendlyName: 'friendly_name',
    status: 'active',
    type: 'Full',
    authToken: 'auth_token',
    dateCreated: new Date('2015-07-30T20:00:00Z'),
    dateUpdated: new Date('2015-07-30T20:00:00Z'),
    ...overrides,
  };
}

describe('toAccountResource', () => {
  it('reproduces the spec example exactly, key order of subresource_uris included', () => {
    const resource = toAccountResource(view());
    expect(resource).toEqual(SPEC_EXAMPLE);
    expect(Object.keys(resource.subresource_uris)).toEqual(Object.keys(SPEC_EXAMPLE.subresource_uris));
  });

  it('has exactly the documented keys', () => {
    expect(Object.keys(toAccountResource(view())).sort()).toEqual([
      'auth_token', 'date_created', 'date_updated', 'friendly_name', 'owner_account_sid',
      'sid', 'status', 'subresource_uris', 'type', 'uri',
    ]);
    expect(Object.keys(ACCOUNT_SUBRESOURCES)).toHaveLength(20);
  });

  it('builds every uri from the account sid', () => {
    const sid = 'AC0123456789abcdef0123456789abcdef';
    const resource = toAccountResource(view({ sid, dateUpdated: new Date('2016-01-02T03:04:05.678Z') }));
    expect(resource.uri).toBe(accountUri(sid));
    expect(resource.uri).toBe(`/2010-04-01/Accounts/${sid}.json`);
    expect(resource.date_updated).toBe('Sat, 02 Jan 2016 03:04:05 +0000');
    for (const uri of Object.values(resource.subresource_uris)) {
      expect(uri.startsWith(`/2010-04-01/Accounts/${sid}/`)).toBe(true);
      expect(uri.endsWith('.json')).toBe(true);
    }
    expect(resource.subresource_uris.short_codes).toBe(`/2010-04-01/Accounts/${sid}/SMS/ShortCodes.json`);
  });
});
