import { eventsListUrl, eventsPageUrls, toEventsPage } from './events-page.envelope';

describe('events page', () => {
  it('builds URLs in the spec example order, encoded as Twilio does', () => {
    expect(
      eventsListUrl(
        'https://monitor.twilio.com',
        {
          StartDate: '2015-07-30T20:00:00Z',
          SourceIpAddress: 'source_ip_address',
          EndDate: '2015-07-30T20:00:00Z',
          ActorSid: 'USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
          EventType: 'event_type',
          ResourceSid: 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        },
        50,
        0,
      ),
    ).toBe(
      'https://monitor.twilio.com/v1/Events?StartDate=2015-07-30T20%3A00%3A00Z&SourceIpAddress=source_ip_address&EndDate=2015-07-30T20%3A00%3A00Z&ActorSid=USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&EventType=event_type&ResourceSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&PageSize=50&Page=0',
    );
  });

  it('wraps events in the v1 envelope', () => {
    const urls = eventsPageUrls({
      baseUrl: 'http://127.0.0.1:3000',
      filters: { EventType: 'account.created' },
      pageSize: 2,
      page: 1,
      pageToken: 'PAcur',
      nextToken: 'PAnext',
      previousToken: 'PBprev',
    });
    const page = toEventsPage({ events: [], page: 1, pageSize: 2, ...urls });
    expect(page).toEqual({
      events: [],
      meta: {
        page: 1,
        page_size: 2,
        first_page_url: 'http://127.0.0.1:3000/v1/Events?EventType=account.created&PageSize=2&Page=0',
        previous_page_url: 'http://127.0.0.1:3000/v1/Events?EventType=account.created&PageSize=2&Page=0&PageToken=PBprev',
        url: 'http://127.0.0.1:3000/v1/Events?EventType=account.created&PageSize=2&Page=1&PageToken=PAcur',
        next_page_url: 'http://127.0.0.1:3000/v1/Events?EventType=account.created&PageSize=2&Page=2&PageToken=PAnext',
        key: 'events',
      },
    });
  });

  it('has null neighbours when there are no tokens', () => {
    const urls = eventsPageUrls({ baseUrl: 'http://h', filters: {}, pageSize: 50, page: 0 });
    expect(urls.nextPageUrl).toBeNull();
    expect(urls.previousPageUrl).toBeNull();
    expect(urls.url).toBe(urls.firstPageUrl);
  });
});
