import { reasonOf } from './event-streams.fixtures';
import { MAX_SINK_CONFIGURATION_CHARS, parseSinkConfiguration, sinkDestinations } from './sink-configuration';

const hook = (config: Record<string, unknown>) => JSON.stringify({ destination: 'https://example.com/hook', method: 'POST', batch_events: true, ...config });

describe('sink configuration', () => {
  it('a webhook: exactly destination, method POST and batch_events', () => {
    expect(parseSinkConfiguration('webhook', hook({}))).toEqual({
      sinkType: 'webhook',
      configuration: { destination: 'https://example.com/hook', method: 'POST', batch_events: true },
      destinationPassword: null,
    });
  });

  it('a password in the destination is taken out (to be sealed) and masked', () => {
    const parsed = parseSinkConfiguration('webhook', hook({ destination: 'https://user:p%40ss@example.com/hook?x=1' }));
    expect(parsed.destinationPassword).toBe('p@ss');
    expect(parsed.configuration).toMatchObject({ destination: 'https://user:****@example.com/hook?x=1' });
    expect(JSON.stringify(parsed.configuration)).not.toContain('p%40ss');
  });

  it.each([
    ['not JSON', '{destination'],
    ['a JSON array', '[]'],
    ['an unknown key', hook({ headers: { a: 1 } })],
    ['no destination', JSON.stringify({ method: 'POST', batch_events: true })],
    ['a relative destination', hook({ destination: '/hook' })],
    ['another scheme', hook({ destination: 'ftp://example.com/' })],
    ['a file URL', hook({ destination: 'file:///etc/passwd' })],
    ['a fragment', hook({ destination: 'https://example.com/#x' })],
    ['bodySHA256 already there', hook({ destination: 'https://example.com/?bodySHA256=x' })],
    ['a destination too long', hook({ destination: `https://example.com/${'a'.repeat(2100)}` })],
    ['method GET', hook({ method: 'GET' })],
    ['batch_events as a string', hook({ batch_events: 'true' })],
    ['a configuration too long', JSON.stringify({ destination: 'https://example.com/', method: 'POST', batch_events: true, pad: 'x'.repeat(MAX_SINK_CONFIGURATION_CHARS) })],
  ])('a webhook with %s is refused', (_, raw) => {
    expect(reasonOf(() => parseSinkConfiguration('webhook', raw))).toBe('sink_configuration_invalid');
  });

  const nats = (config: Record<string, unknown>) => JSON.stringify({ servers: ['nats://127.0.0.1:4222'], subject_prefix: 'accountable.events', stream: 'ACCOUNTABLE', ...config });

  it('nats: servers, subject_prefix, stream; servers normalised', () => {
    expect(parseSinkConfiguration('nats', nats({ servers: ['nats://127.0.0.1:4222/', 'nats://nats.example.com:4443'] })).configuration).toEqual({
      servers: ['nats://127.0.0.1:4222', 'nats://nats.example.com:4443'],
      subject_prefix: 'accountable.events',
      stream: 'ACCOUNTABLE',
    });
  });

  it.each([
    ['no servers', nats({ servers: [] })],
    ['six servers', nats({ servers: Array.from({ length: 6 }, (_, i) => `nats://h${i}:4222`) })],
    ['an http server', nats({ servers: ['http://127.0.0.1:4222'] })],
    ['a tls server (not offered)', nats({ servers: ['tls://127.0.0.1:4222'] })],
    ['credentials in a server', nats({ servers: ['nats://u:p@127.0.0.1:4222'] })],
    ['a wildcard subject', nats({ subject_prefix: 'a.*' })],
    ['an empty subject token', nats({ subject_prefix: 'a..b' })],
    ['a stream name with a dot', nats({ stream: 'a.b' })],
    ['an unknown key', nats({ durable: 'x' })],
  ])('nats with %s is refused', (_, raw) => {
    expect(reasonOf(() => parseSinkConfiguration('nats', raw))).toBe('sink_configuration_invalid');
  });

  it('Twilio’s other types and unknown types are refused as unsupported', () => {
    for (const type of ['kinesis', 'segment', 'email', 'sqs', '']) expect(reasonOf(() => parseSinkConfiguration(type, '{}'))).toBe('sink_type_unsupported');
  });

  it('a JSON body may give the object itself', () => {
    expect(parseSinkConfiguration('webhook', JSON.parse(hook({}))).sinkType).toBe('webhook');
  });

  it('destinations are what the egress guard must clear', () => {
    expect(sinkDestinations(parseSinkConfiguration('nats', nats({})).configuration).map(String)).toEqual(['nats://127.0.0.1:4222']);
  });
});
