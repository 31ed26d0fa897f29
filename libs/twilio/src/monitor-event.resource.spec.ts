import { toMonitorEvent, type MonitorEventView } from './monitor-event.resource';

const ACCOUNT = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const PARENT = 'ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const SID = 'AEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

function view(overrides: Partial<MonitorEventView> = {}): MonitorEventView {
  return {
    sid: SID,
    accountSid: ACCOUNT,
    actorSid: PARENT,
    actorType: 'account',
    eventData: { friendly_name: { previous: 'SubAccount Created at 2014-10-03 09:48 am', updated: 'Mr. Friendly' } },
    eventDate: new Date('2014-10-03T16:48:25.734Z'),
    eventType: 'account.updated',
    resourceSid: ACCOUNT,
    resourceType: 'account',
    source: 'api',
    sourceIpAddress: '10.86.6.250',
    ...overrides,
  };
}

describe('toMonitorEvent', () => {
  it('renders every field of the monitor.v1.event schema with absolute URLs', () => {
    expect(toMonitorEvent(view(), 'http://127.0.0.1:3000/')).toEqual({
      account_sid: ACCOUNT,
      actor_sid: PARENT,
      actor_type: 'account',
      description: null,
      event_data: { friendly_name: { previous: 'SubAccount Created at 2014-10-03 09:48 am', updated: 'Mr. Friendly' } },
      event_date: '2014-10-03T16:48:25Z',
      event_type: 'account.updated',
      resource_sid: ACCOUNT,
      resource_type: 'account',
      sid: SID,
      source: 'api',
      source_ip_address: '10.86.6.250',
      url: `http://127.0.0.1:3000/v1/Events/${SID}`,
      links: {
        actor: `http://127.0.0.1:3000/2010-04-01/Accounts/${PARENT}.json`,
        resource: `http://127.0.0.1:3000/2010-04-01/Accounts/${ACCOUNT}.json`,
      },
    });
  });

  it('has no actor link for operator and system actors', () => {
    const event = toMonitorEvent(view({ actorType: 'operator', actorSid: null, source: 'cli', sourceIpAddress: null }), 'http://localhost:3000');
    expect(event.links.actor).toBeNull();
    expect(event.actor_sid).toBeNull();
    expect(event.source_ip_address).toBeNull();
    expect(event.links.resource).toBe(`http://localhost:3000/2010-04-01/Accounts/${ACCOUNT}.json`);
  });

  it('passes a description through', () => {
    expect(toMonitorEvent(view({ description: 'Account updated' }), 'http://h').description).toBe('Account updated');
  });
});
