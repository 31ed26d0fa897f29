import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, clientFor, eventsOfType, LIST_PATH, raw, streamEvents } from './accounts-api.helpers';

/** Concurrent writers over HTTP: the store's version check serialises them, the handlers retry. */
describe('Accounts API under concurrent requests', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('20 simultaneous renames of one account all succeed, and its stream stays contiguous', async () => {
    const main = await t.createMain('Main', 'Full');
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'name 0' });
    const names = Array.from({ length: 20 }, (_, i) => `name ${i + 1}`);
    const responses = await Promise.all(names.map((FriendlyName) => raw(t, accountPath(sub.sid), { as: main, body: { FriendlyName } })));
    expect(responses.map((r) => r.status)).toEqual(names.map(() => 200));

    const events = await streamEvents(t, sub.sid);
    expect(events.map((e) => e.stream_version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    const renames = events.filter((e) => e.type === 'AccountRenamed');
    expect(renames.map((e) => e.data.friendlyName).sort()).toEqual([...names].sort());
    // Each rename was decided on the state it was appended to.
    renames.forEach((e, i) => expect(e.data.previous).toBe(i === 0 ? 'name 0' : renames[i - 1].data.friendlyName));
    // The read model ends on the last appended name.
    const final = await clientFor(t, main).api.v2010.accounts(sub.sid).fetch();
    expect(final.friendlyName).toBe(renames[renames.length - 1].data.friendlyName);
  });

  it('10 simultaneous creates at the Trial limit: exactly one 201, nine 400 21480, one SubaccountCreated', async () => {
    const trial: AccountRecord = await t.createMain('Trial', 'Trial');
    const before = (await eventsOfType(t, 'SubaccountCreated')).length;
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => raw(t, LIST_PATH, { as: trial, body: { FriendlyName: `race ${i}` } })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(9).fill(400)]);
    expect(responses.filter((r) => r.status === 400).map((r) => r.json.code)).toEqual(Array(9).fill(21480));

    const created = (await eventsOfType(t, 'SubaccountCreated')).slice(before);
    expect(created).toHaveLength(1);
    expect(created[0].data.ownerAccountSid).toBe(trial.sid);
    expect(created[0].data.sid).toBe(responses.find((r) => r.status === 201)!.json.sid);
    const owner = await streamEvents(t, trial.sid);
    expect(owner.filter((e) => e.type === 'SubaccountAdded')).toHaveLength(1);
    expect((await clientFor(t, trial).api.v2010.accounts.list()).map((a) => a.sid)).toEqual([trial.sid, created[0].data.sid]);
  });

  it('simultaneous creates on a Full account all succeed, each owner version used once', async () => {
    const main = await t.createMain('Full', 'Full');
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => raw(t, LIST_PATH, { as: main, body: { FriendlyName: `many ${i}` } })));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    const owner = await streamEvents(t, main.sid);
    expect(owner.map((e) => e.stream_version)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(owner.filter((e) => e.type === 'SubaccountAdded').map((e) => e.data.subaccountSid).sort()).toEqual(responses.map((r) => r.json.sid).sort());
  });

  it('a simultaneous close and rename of one subaccount: both orders are consistent', async () => {
    const main = await t.createMain('Close race', 'Full');
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'racing' });
    const [close, rename] = await Promise.all([
      raw(t, accountPath(sub.sid), { as: main, body: { Status: 'closed' } }),
      raw(t, accountPath(sub.sid), { as: main, body: { FriendlyName: 'renamed' } }),
    ]);
    expect(close.status).toBe(200);
    const events = await streamEvents(t, sub.sid);
    if (rename.status === 200) {
      // The rename went first: it is stored before the close.
      expect(events.map((e) => e.type)).toEqual(['SubaccountCreated', 'AccountRenamed', 'AccountStatusChanged']);
    } else {
      // The close went first: the rename met a closed account.
      expect([rename.status, rename.json.code]).toEqual([400, 21479]);
      expect(events.map((e) => e.type)).toEqual(['SubaccountCreated', 'AccountStatusChanged']);
    }
  });
});
