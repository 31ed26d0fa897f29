import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { auditRows, clientFor, drain, raw, restError, sids, type AuditRow } from './audit.helpers';

describe('Monitor Events: who sees what', () => {
  let t: TestApp;
  let main: AccountRecord;
  let other: AccountRecord;
  let sub1: { sid: string; authToken: string };
  let sub2: { sid: string; authToken: string };
  let otherSub: { sid: string; authToken: string };
  let rows: AuditRow[];
  const of = (predicate: (r: AuditRow) => boolean) => sids(rows.filter(predicate));

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Tenant one', 'Full');
    other = await t.createMain('Tenant two', 'Full');
    const accounts = clientFor(t, main).api.v2010.accounts;
    sub1 = await accounts.create({ friendlyName: 'one' });
    sub2 = await accounts.create({ friendlyName: 'two' });
    await accounts(sub2.sid).update({ friendlyName: 'two renamed' });
    await clientFor(t, sub1).api.v2010.accounts(sub1.sid).update({ friendlyName: 'one by itself' });
    otherSub = await clientFor(t, other).api.v2010.accounts.create({ friendlyName: 'theirs' });
    await drain(t);
    rows = await auditRows(t);
    expect(rows).toHaveLength(7);
  });
  afterAll(() => t.close());

  const events = (as: { sid: string; authToken: string }) => clientFor(t, as).monitor.v1.events;

  it('a main account sees its own events and its subaccounts’, never another tenant’s', async () => {
    const seen = await events(main).list();
    expect(sids(seen)).toEqual(of((r) => r.account_sid === main.sid));
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((e) => e.accountSid))).toEqual(new Set([main.sid]));
    expect(sids(await events(other).list())).toEqual(of((r) => r.account_sid === other.sid));
  });

  it('a subaccount sees only the events about itself, whoever caused them', async () => {
    const seen = await events(sub1).list();
    expect(sids(seen)).toEqual(of((r) => r.resource_sid === sub1.sid));
    expect(seen.map((e) => e.actorSid)).toEqual([sub1.sid, main.sid]);
    // The owning main account is still the event's account_sid.
    expect(new Set(seen.map((e) => e.accountSid))).toEqual(new Set([main.sid]));
  });

  it('filters never widen visibility', async () => {
    expect(await events(sub1).list({ resourceSid: sub2.sid })).toEqual([]);
    expect(await events(sub1).list({ resourceSid: main.sid })).toEqual([]);
    expect(await events(sub1).list({ actorSid: main.sid })).toHaveLength(1);
    expect(await events(other).list({ resourceSid: sub1.sid })).toEqual([]);
    expect(await events(other).list({ actorSid: main.sid })).toEqual([]);
    expect(sids(await events(main).list({ resourceSid: sub2.sid }))).toEqual(of((r) => r.resource_sid === sub2.sid));
  });

  it('fetching an event the caller may not see is 404, as if it did not exist', async () => {
    const sub2Event = rows.find((r) => r.resource_sid === sub2.sid)!.sid;
    const mainEvent = rows.find((r) => r.resource_sid === main.sid)!.sid;
    const theirEvent = rows.find((r) => r.resource_sid === otherSub.sid)!.sid;
    const sub1Event = rows.find((r) => r.resource_sid === sub1.sid)!.sid;

    expect((await events(main).get(sub2Event).fetch()).sid).toBe(sub2Event);
    expect((await events(sub1).get(sub1Event).fetch()).sid).toBe(sub1Event);
    for (const [as, sid] of [
      [sub1, sub2Event],
      [sub1, mainEvent],
      [main, theirEvent],
      [other, sub1Event],
      [otherSub, mainEvent],
    ] as const) {
      expect(await restError(events(as).get(sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    }
    const hidden = await raw(t, `/v1/Events/${theirEvent}`, main);
    const unknown = await raw(t, `/v1/Events/AE${'f'.repeat(32)}`, main);
    expect(hidden.status).toBe(unknown.status);
    expect(Object.keys(hidden.json).sort()).toEqual(Object.keys(unknown.json).sort());
    expect(hidden.json.code).toBe(unknown.json.code);
  });

  it('credentials of a suspended subaccount no longer read its history', async () => {
    await clientFor(t, main).api.v2010.accounts(sub2.sid).update({ status: 'suspended' });
    expect(await restError(events(sub2).list())).toMatchObject({ status: 401, code: 20003 });
  });
});
