import type { EventTypeDefinition, SchemaVersionDefinition } from '../catalog';

/**
 * What the resources read of the event-type catalogue (libs/event-streams/src/catalog): the types
 * a subscription may select and their schema versions, as `/v1/Types` and `/v1/Schemas` serve
 * them. An interface, so the decisions are tested against a catalogue of the test's own.
 */
export interface EventTypeCatalog {
  readonly types: readonly EventTypeDefinition[];
  readonly schemaVersions: readonly SchemaVersionDefinition[];
}

/** Nest token of the EventTypeCatalog the app provides. */
export const EVENT_TYPE_CATALOG = Symbol('EVENT_TYPE_CATALOG');

export function findEventType(catalog: EventTypeCatalog, type: string): EventTypeDefinition | undefined {
  return catalog.types.find((t) => t.type === type);
}

/** A schema's versions, oldest first. */
export function schemaVersionsOf(catalog: EventTypeCatalog, schemaId: string): SchemaVersionDefinition[] {
  return catalog.schemaVersions.filter((v) => v.schemaId === schemaId).sort((a, b) => a.version - b.version);
}
