import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Swagger UI at /docs and the document at /docs-json, generated from the controllers and DTOs. */
export function setUpOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Accountable')
    .setDescription(
      "Twilio REST API v2010 Accounts and Monitor v1 Events, served from an event-sourced store. HTTP Basic auth: the account sid and its auth token. Requests take application/x-www-form-urlencoded (what Twilio's clients send) or JSON. Errors: Twilio's envelope {code, message, more_info, status}. API keys (SK sid and secret) authenticate on /v1/Events only. SigningKeys is the Keys resource under another name. The 2010 paths also answer in XML (no suffix, or .xml) and CSV (.csv), errors included; only the JSON paths are described here.",
    )
    .setVersion('2010-04-01')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'Account sid and auth token' }, 'accountSid_authToken')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // A route serves `Accounts`, `.json`, `.xml` and `.csv` (one handler): one operation each would
  // repeat its operationId, which OpenAPI forbids. The JSON path stands for them.
  // SigningKeys is Keys under another name (same handlers): Keys stands for it.
  for (const path of Object.keys(document.paths)) {
    if (/^\/2010-04-01\/.*\.(xml|csv)$/.test(path) || document.paths[`${path}.json`] || /\/SigningKeys(\.|\/|$)/.test(path)) delete document.paths[path];
  }
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
