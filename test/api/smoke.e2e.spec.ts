import twilio from 'twilio';
import { startTestApp, type TestApp } from '../support/test-app';

describe('accounts API smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('creates, fetches, lists and updates through twilio-node', async () => {
    const main = await t.createMain('Main', 'Full');
    const client = twilio(main.sid, main.authToken);
    client.api.baseUrl = t.baseUrl;
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'first' });
    expect(sub.ownerAccountSid).toBe(main.sid);
    const fetched = await client.api.v2010.accounts(sub.sid).fetch();
    expect(fetched.friendlyName).toBe('first');
    const renamed = await client.api.v2010.accounts(sub.sid).update({ friendlyName: 'second', status: 'suspended' });
    expect([renamed.friendlyName, renamed.status]).toEqual(['second', 'suspended']);
    const all = await client.api.v2010.accounts.list();
    expect(all.map((a) => a.sid).sort()).toEqual([main.sid, sub.sid].sort());
  });
});
