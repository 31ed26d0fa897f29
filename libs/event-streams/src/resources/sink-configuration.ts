import { EventStreamsRuleError } from './event-streams.errors';

/** The sink types this service delivers to: Twilio's webhook, and NATS JetStream (ours). */
export const SINK_TYPES = ['webhook', 'nats'] as const;
export type SinkType = (typeof SINK_TYPES)[number];

/** Twilio's other types (its OpenAPI enum): known, refused with 91000 rather than "invalid". */
const TWILIO_ONLY_SINK_TYPES = ['kinesis', 'segment', 'email'];

/** As stored and answered. The destination's password, if any, is never here in the clear. */
export interface WebhookSinkConfiguration {
  destination: string;
  method: 'POST';
  batch_events: boolean;
}

export interface NatsSinkConfiguration {
  servers: string[];
  subject_prefix: string;
  stream: string;
}

export type SinkConfiguration = WebhookSinkConfiguration | NatsSinkConfiguration;

/** What parsing found: the stored configuration, and the destination's password to seal apart. */
export interface ParsedSinkConfiguration {
  sinkType: SinkType;
  configuration: SinkConfiguration;
  /** `user:password@` in a webhook destination: the password, to be sealed, never stored plain. */
  destinationPassword: string | null;
}

/** The password's place in a stored destination; the real one is sealed beside it. */
export const MASKED_PASSWORD = '****';

// Bounds: a hostile client's JSON is refused before it is kept (our choices; Twilio's are not public).
export const MAX_SINK_CONFIGURATION_CHARS = 4096;
export const MAX_DESTINATION_CHARS = 2048;
export const MAX_NATS_SERVERS = 5;
const MAX_SERVER_CHARS = 256;
const MAX_SUBJECT_PREFIX_CHARS = 128;
const MAX_STREAM_CHARS = 64;
/** NATS subject tokens: no wildcards (`*`, `>`), no white space, no empty token. */
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** JetStream stream names: no `.`, `*`, `>`, path separators or white space. */
const STREAM_NAME = /^[A-Za-z0-9_-]+$/;

const invalid = (message: string) => new EventStreamsRuleError('sink_configuration_invalid', message);

/**
 * `SinkType` and `SinkConfiguration` (a JSON string, as twilio-node sends it; a JSON body may
 * give the object itself) checked completely: exact keys (an unknown key is refused, not kept),
 * types, lengths. Pure: no network; whether the destination may be reached is the egress guard's
 * question, asked by the caller.
 */
export function parseSinkConfiguration(sinkType: string, raw: unknown): ParsedSinkConfiguration {
  if (TWILIO_ONLY_SINK_TYPES.includes(sinkType)) {
    throw new EventStreamsRuleError('sink_type_unsupported', `Sink type ${sinkType} is not supported by this service (webhook, nats)`);
  }
  if (!(SINK_TYPES as readonly string[]).includes(sinkType)) {
    throw new EventStreamsRuleError('sink_type_unsupported', 'SinkType must be one of webhook, nats');
  }
  const object = configurationObject(raw);
  return sinkType === 'webhook' ? parseWebhook(object) : { sinkType: 'nats', configuration: parseNats(object), destinationPassword: null };
}

function configurationObject(raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.length > MAX_SINK_CONFIGURATION_CHARS) throw invalid(`SinkConfiguration must be at most ${MAX_SINK_CONFIGURATION_CHARS} characters`);
    try {
      value = JSON.parse(raw);
    } catch {
      throw invalid('SinkConfiguration must be a JSON object');
    }
  } else if (JSON.stringify(raw ?? null).length > MAX_SINK_CONFIGURATION_CHARS) {
    throw invalid(`SinkConfiguration must be at most ${MAX_SINK_CONFIGURATION_CHARS} characters`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('SinkConfiguration must be a JSON object');
  return value as Record<string, unknown>;
}

function exactKeys(object: Record<string, unknown>, required: readonly string[], sinkType: string): void {
  for (const key of Object.keys(object)) {
    if (!required.includes(key)) throw invalid(`SinkConfiguration of a ${sinkType} sink has no key ${JSON.stringify(key.slice(0, 64))} (it takes ${required.join(', ')})`);
  }
  for (const key of required) {
    if (object[key] === undefined || object[key] === null || object[key] === '') throw invalid(`SinkConfiguration of a ${sinkType} sink needs ${key}`);
  }
}

function parseWebhook(object: Record<string, unknown>): ParsedSinkConfiguration {
  exactKeys(object, ['destination', 'method', 'batch_events'], 'webhook');
  const { destination, method, batch_events: batchEvents } = object;
  if (typeof destination !== 'string' || destination.length > MAX_DESTINATION_CHARS) {
    throw invalid(`destination must be an http or https URL of at most ${MAX_DESTINATION_CHARS} characters`);
  }
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    throw invalid('destination must be an absolute http or https URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('destination must be an http or https URL');
  if (url.hash !== '') throw invalid('destination must not have a fragment');
  if (url.searchParams.has('bodySHA256')) throw invalid('destination must not carry bodySHA256: the signature adds it');
  // GET sinks: how Twilio encodes events for them is not documented (EVENT-STREAMS.md §4).
  if (method !== 'POST') throw invalid('method must be POST (GET sinks are not supported by this service)');
  if (typeof batchEvents !== 'boolean') throw invalid('batch_events must be true or false');
  let destinationPassword: string | null = null;
  if (url.password !== '') {
    destinationPassword = decodeURIComponent(url.password);
    url.password = MASKED_PASSWORD;
  }
  return { sinkType: 'webhook', configuration: { destination: url.href, method: 'POST', batch_events: batchEvents }, destinationPassword };
}

function parseNats(object: Record<string, unknown>): NatsSinkConfiguration {
  exactKeys(object, ['servers', 'subject_prefix', 'stream'], 'nats');
  const { servers, subject_prefix: subjectPrefix, stream } = object;
  if (!Array.isArray(servers) || servers.length === 0 || servers.length > MAX_NATS_SERVERS) {
    throw invalid(`servers must be a list of 1 to ${MAX_NATS_SERVERS} nats:// URLs`);
  }
  const checked = servers.map((server) => {
    if (typeof server !== 'string' || server.length > MAX_SERVER_CHARS) throw invalid('each server must be a nats://host:port URL');
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw invalid('each server must be a nats://host:port URL');
    }
    // Credentials in a server URL would be kept in the clear: not taken. TLS is not offered yet.
    if (url.protocol !== 'nats:' || url.hostname === '' || url.username !== '' || url.password !== '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
      throw invalid('each server must be a nats://host:port URL without credentials or path');
    }
    return `${url.protocol}//${url.host}`;
  });
  if (typeof subjectPrefix !== 'string' || subjectPrefix.length > MAX_SUBJECT_PREFIX_CHARS || !SUBJECT_PREFIX.test(subjectPrefix)) {
    throw invalid(`subject_prefix must be NATS subject tokens (letters, digits, _ and -, separated by dots), at most ${MAX_SUBJECT_PREFIX_CHARS} characters`);
  }
  if (typeof stream !== 'string' || stream.length > MAX_STREAM_CHARS || !STREAM_NAME.test(stream)) {
    throw invalid(`stream must be a JetStream stream name (letters, digits, _ and -), at most ${MAX_STREAM_CHARS} characters`);
  }
  return { servers: checked, subject_prefix: subjectPrefix, stream };
}

/** Where a sink sends: the hosts the egress guard must clear (webhook destination, NATS servers). */
export function sinkDestinations(configuration: SinkConfiguration): URL[] {
  return 'destination' in configuration ? [new URL(configuration.destination)] : configuration.servers.map((server) => new URL(server));
}
