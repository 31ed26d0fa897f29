import { EVENT_TYPES, StreamEventType, type EventTypeDefinition } from './event-types';

/**
 * The JSON Schema (2020-12) of each type's CloudEvent `data`: the Monitor event as `/v1/Events`
 * shows it (toMonitorEvent), with the `event_data` of that type. streams-api publishes these
 * under `/v1/Schemas`; a CloudEvent's `dataschema` and a schema version's `raw` are the same URL
 * (schemaRawUrl). every-stream-event-type.spec.ts validates a delivered `data` of every type
 * against its schema.
 */
export type JsonSchema = Readonly<Record<string, unknown>>;

const ACCOUNT_SID = { type: 'string', pattern: '^AC[0-9a-f]{32}$' } as const;
const KEY_SID = { type: 'string', pattern: '^SK[0-9a-f]{32}$' } as const;
const NAME = { type: 'string', minLength: 1 } as const;
const NULLABLE_NAME = { type: ['string', 'null'] } as const;
const NULL = { type: 'null' } as const;
const LIVE_STATUS = { enum: ['active', 'suspended'] } as const;

/** `{previous, updated}`, as Monitor shows a field's change. */
const change = (previous: object, updated: object) => ({
  type: 'object',
  required: ['previous', 'updated'],
  additionalProperties: false,
  properties: { previous, updated },
});

const eventData = (fields: Record<string, object>) => ({
  type: 'object',
  required: Object.keys(fields),
  additionalProperties: false,
  properties: fields,
});

const NO_DATA = eventData({});

/** Monitor's `event_type` and the `event_data` of each stream type. */
const SHAPES: Record<StreamEventType, { monitorType: string; eventData: object }> = {
  [StreamEventType.AccountCreated]: {
    monitorType: 'account.created',
    eventData: eventData({
      friendly_name: change(NULL, NAME),
      status: change(NULL, { const: 'active' }),
      type: change(NULL, { enum: ['Trial', 'Full'] }),
    }),
  },
  [StreamEventType.AccountRenamed]: { monitorType: 'account.updated', eventData: eventData({ friendly_name: change(NAME, NAME) }) },
  [StreamEventType.AccountStatusChanged]: { monitorType: 'account.updated', eventData: eventData({ status: change(LIVE_STATUS, LIVE_STATUS) }) },
  [StreamEventType.AccountClosed]: { monitorType: 'account.updated', eventData: eventData({ status: change(LIVE_STATUS, { const: 'closed' }) }) },
  [StreamEventType.AccountUpgraded]: { monitorType: 'account.updated', eventData: eventData({ type: change({ const: 'Trial' }, { const: 'Full' }) }) },
  [StreamEventType.ApiKeyCreated]: {
    monitorType: 'account-api-keys.created',
    eventData: eventData({ api_key_sid: change(NULL, KEY_SID), friendly_name: change(NULL, NULLABLE_NAME) }),
  },
  [StreamEventType.ApiKeyRenamed]: {
    monitorType: 'account-api-keys.updated',
    eventData: eventData({ api_key_sid: change(KEY_SID, KEY_SID), friendly_name: change(NULLABLE_NAME, NULLABLE_NAME) }),
  },
  [StreamEventType.ApiKeyDeleted]: {
    monitorType: 'account-api-keys.deleted',
    eventData: eventData({ api_key_sid: change(KEY_SID, NULL), friendly_name: change(NULLABLE_NAME, NULL) }),
  },
  [StreamEventType.SecondaryAuthTokenCreated]: { monitorType: 'account-auth-token.secondary-created', eventData: NO_DATA },
  [StreamEventType.SecondaryAuthTokenDeleted]: { monitorType: 'account-auth-token.secondary-deleted', eventData: NO_DATA },
  [StreamEventType.AuthTokenPromoted]: { monitorType: 'account-auth-token.promoted', eventData: NO_DATA },
};

const URL_OR_NULL = { type: ['string', 'null'], format: 'uri' } as const;

function schemaOf(info: EventTypeDefinition & { type: StreamEventType }): JsonSchema {
  const shape = SHAPES[info.type];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: info.schemaId,
    description: `data of ${info.type}: the Monitor event (GET /v1/Events/{Sid}) of the change`,
    type: 'object',
    additionalProperties: false,
    required: [
      'account_sid',
      'actor_sid',
      'actor_type',
      'description',
      'event_data',
      'event_date',
      'event_type',
      'resource_sid',
      'resource_type',
      'sid',
      'source',
      'source_ip_address',
      'url',
      'links',
    ],
    properties: {
      account_sid: { ...ACCOUNT_SID, description: 'The main account: the account itself, or the owner of a subaccount' },
      actor_sid: { type: ['string', 'null'], description: 'The authenticated account or API key; null for operator and system changes' },
      actor_type: { type: 'string', description: 'account (API), operator (CLI) or system (a cascade)' },
      description: { type: ['string', 'null'] },
      event_data: shape.eventData,
      event_date: { type: 'string', format: 'date-time' },
      event_type: { const: shape.monitorType },
      resource_sid: { ...ACCOUNT_SID, description: 'The account changed' },
      resource_type: { const: 'account' },
      sid: { type: 'string', pattern: '^AE[0-9a-f]{32}$', description: 'The Monitor event; also the CloudEvent id' },
      source: { type: 'string', description: 'api, cli or system' },
      source_ip_address: { type: ['string', 'null'] },
      url: { type: 'string', format: 'uri' },
      links: {
        type: 'object',
        required: ['actor', 'resource'],
        additionalProperties: false,
        properties: { actor: URL_OR_NULL, resource: URL_OR_NULL },
      },
    },
  };
}

/** A version of a schema as `/v1/Schemas/{Id}/Versions` shows it; `schema` is the body of its `raw`. */
export interface SchemaVersionDefinition {
  schemaId: string;
  version: number;
  dateCreated: Date;
  schema: JsonSchema;
}

/** Every schema version; a type's `dataschema` is the latest version of its schema. */
export const SCHEMA_VERSIONS: readonly SchemaVersionDefinition[] = EVENT_TYPES.map((definition) => ({
  schemaId: definition.schemaId,
  version: 1,
  dateCreated: definition.dateCreated,
  schema: schemaOf(definition),
}));

/** The latest version of `schemaId` (what a subscription without a SchemaVersion gets, and what is delivered). */
export function latestSchemaVersion(schemaId: string): SchemaVersionDefinition | undefined {
  return SCHEMA_VERSIONS.filter((v) => v.schemaId === schemaId).reduce<SchemaVersionDefinition | undefined>(
    (latest, v) => (latest && latest.version > v.version ? latest : v),
    undefined,
  );
}

/**
 * Where a schema version's JSON is served: a CloudEvent's `dataschema` and the version's `raw`.
 * Twilio hosts its own at events-schemas.twilio.com; ours are served by this service.
 */
export function schemaRawUrl(baseUrl: string, schemaId: string, version: number): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/Schemas/${encodeURIComponent(schemaId)}/Versions/${version}/Raw`;
}
