import { Controller, Delete, Get, Inject, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { EVENT_TYPE_CATALOG, EventStreamsRuleError, findEventType, schemaRawUrl, schemaVersionsOf, type EventTypeCatalog, type SchemaVersionDefinition } from '@accountable/event-streams';
import {
  parsePage,
  parsePageSize,
  singleParam,
  toEventTypeResource,
  toSchemaResource,
  toSchemaVersionResource,
  toV1Page,
  TwilioErrors,
  type EventTypeResource,
  type SchemaResource,
  type SchemaVersionResource,
  type V1List,
} from '@accountable/twilio';
import { Authenticated } from '../http/basic-auth';
import { PublicUrl } from '../http/public-url';
import { TwilioErrorSchema } from '../openapi/twilio.schemas';

/**
 * Twilio Event Streams Types and Schemas: the catalog of the event types this service publishes
 * (our account changes), read-only and the same for every account. Any valid credentials.
 */
@ApiTags('Event Streams v1')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials (20003)', type: TwilioErrorSchema })
@Controller('v1')
export class EventTypesController {
  constructor(
    @Inject(EVENT_TYPE_CATALOG) private readonly catalog: EventTypeCatalog,
    private readonly publicUrl: PublicUrl,
  ) {}

  @Get('Types')
  @ApiOperation({ operationId: 'ListEventType', summary: 'Every event type, by name; SchemaId filter' })
  @Authenticated(undefined, { apiKeys: true })
  list(@Query() query: Record<string, unknown>): V1List<'types', EventTypeResource> {
    const schemaIdText = singleParam(query.SchemaId);
    const schemaId = schemaIdText === '' ? undefined : schemaIdText;
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const all = this.catalog.types.filter((t) => schemaId === undefined || t.schemaId === schemaId).sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    const items = all.slice(page * pageSize, page * pageSize + pageSize);
    return toV1Page({
      key: 'types',
      items: items.map((t) => toEventTypeResource(t, this.publicUrl.base)),
      baseUrl: this.publicUrl.base,
      path: '/Types',
      filters: [['SchemaId', schemaId]],
      page,
      pageSize,
      hasNext: all.length > (page + 1) * pageSize,
    });
  }

  @Get('Types/:type')
  @ApiOperation({ operationId: 'FetchEventType', summary: 'One event type' })
  @ApiResponse({ status: 404, description: 'Unknown type (91202)', type: TwilioErrorSchema })
  @Authenticated(undefined, { apiKeys: true })
  fetch(@Param('type') type: string): EventTypeResource {
    const definition = findEventType(this.catalog, type);
    if (!definition) throw new EventStreamsRuleError('schema_not_found', `Event type ${type.slice(0, 200)} was not found`);
    return toEventTypeResource(definition, this.publicUrl.base);
  }

  @Get('Schemas/:id')
  @ApiOperation({ operationId: 'FetchSchema', summary: 'A schema and its latest version' })
  @ApiResponse({ status: 404, description: 'Unknown schema (91202)', type: TwilioErrorSchema })
  @Authenticated(undefined, { apiKeys: true })
  fetchSchema(@Param('id') id: string): SchemaResource {
    const versions = this.versionsOf(id);
    return toSchemaResource(id, versions[versions.length - 1], this.publicUrl.base);
  }

  @Get('Schemas/:id/Versions')
  @ApiOperation({ operationId: 'ListSchemaVersion', summary: 'A schema’s versions, oldest first' })
  @Authenticated(undefined, { apiKeys: true })
  listVersions(@Param('id') id: string, @Query() query: Record<string, unknown>): V1List<'schema_versions', SchemaVersionResource> {
    const versions = this.versionsOf(id);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    return toV1Page({
      key: 'schema_versions',
      items: versions.slice(page * pageSize, page * pageSize + pageSize).map((v) => this.versionResource(v)),
      baseUrl: this.publicUrl.base,
      path: `/Schemas/${encodeURIComponent(id)}/Versions`,
      filters: [],
      page,
      pageSize,
      hasNext: versions.length > (page + 1) * pageSize,
    });
  }

  @Get('Schemas/:id/Versions/:version')
  @ApiOperation({ operationId: 'FetchSchemaVersion', summary: 'One version of a schema' })
  @Authenticated(undefined, { apiKeys: true })
  fetchVersion(@Param('id') id: string, @Param('version') version: string): SchemaVersionResource {
    return this.versionResource(this.versionOf(id, version));
  }

  /** Ours: the JSON Schema document itself, where `raw` and the CloudEvents' `dataschema` point. */
  @Get('Schemas/:id/Versions/:version/Raw')
  @ApiOperation({ operationId: 'FetchSchemaVersionRaw', summary: 'The JSON Schema of one version (our addition: Twilio serves these at events-schemas.twilio.com)' })
  @Authenticated(undefined, { apiKeys: true })
  raw(@Param('id') id: string, @Param('version') version: string): object {
    return this.versionOf(id, version).schema;
  }

  // Read-only; deleting a schema is Twilio's 91203.
  @Delete(['Schemas/:id', 'Schemas/:id/Versions', 'Schemas/:id/Versions/:version'])
  @ApiExcludeEndpoint()
  @Authenticated()
  deleteSchema(): never {
    throw TwilioErrors.schemaDeleteNotAllowed();
  }

  @Post(['Types', 'Types/:type', 'Schemas/:id', 'Schemas/:id/Versions', 'Schemas/:id/Versions/:version', 'Schemas/:id/Versions/:version/Raw'])
  @ApiExcludeEndpoint()
  @Authenticated()
  post(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ['GET', 'HEAD']);
  }

  @Put(['Types', 'Types/:type', 'Schemas/:id', 'Schemas/:id/Versions', 'Schemas/:id/Versions/:version', 'Schemas/:id/Versions/:version/Raw'])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ['GET', 'HEAD']);
  }

  @Patch(['Types', 'Types/:type', 'Schemas/:id', 'Schemas/:id/Versions', 'Schemas/:id/Versions/:version', 'Schemas/:id/Versions/:version/Raw'])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ['GET', 'HEAD']);
  }

  @Delete(['Types', 'Types/:type', 'Schemas/:id/Versions/:version/Raw'])
  @ApiExcludeEndpoint()
  @Authenticated()
  delete(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ['GET', 'HEAD']);
  }

  /** `raw` is where the catalogue serves the document (the CloudEvents' `dataschema` too). */
  private versionResource(version: SchemaVersionDefinition): SchemaVersionResource {
    return toSchemaVersionResource({ ...version, raw: schemaRawUrl(this.publicUrl.base, version.schemaId, version.version) }, this.publicUrl.base);
  }

  private versionsOf(id: string) {
    const versions = schemaVersionsOf(this.catalog, id);
    if (versions.length === 0) throw new EventStreamsRuleError('schema_not_found', `Schema ${id.slice(0, 200)} was not found`);
    return versions;
  }

  private versionOf(id: string, version: string) {
    const found = /^[1-9][0-9]{0,5}$/.test(version) ? this.versionsOf(id).find((v) => v.version === Number(version)) : undefined;
    if (!found) throw new EventStreamsRuleError('schema_not_found', `Schema ${id.slice(0, 200)} has no version ${version.slice(0, 20)}`);
    return found;
  }
}
