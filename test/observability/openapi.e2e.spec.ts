import { randomBytes } from 'node:crypto';
import { startService, type ServiceProcess } from '../support/processes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** The OpenAPI document, from the built service (in its own process: see createApiApp's `openApi`). */
describe('API documentation', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = startService({ DATABASE_URL: database.url, ENCRYPTION_KEY: randomBytes(32).toString('hex') });
    url = (await service.waitFor(/listening on (http:\/\/\S+)/))[1];
  });
  afterAll(async () => {
    await service?.stop();
    await database?.destroy();
  });

  it('/docs-json describes the Accounts and the Events operations, with Basic auth and Twilio error bodies', async () => {
    const response = await fetch(`${url}/docs-json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p).map((op) => op.operationId));
    // One path per operation: the XML and CSV twins of the 2010 paths are left out.
    expect(new Set(operations).size).toBe(operations.length);
    expect(operations).toEqual(
      expect.arrayContaining([
        'ListAccount', 'CreateAccount', 'FetchAccount', 'UpdateAccount', 'ListEvent', 'FetchEvent', 'ListAccountHistory', 'FetchAccountState',
        'ListKey', 'CreateNewKey', 'FetchKey', 'UpdateKey', 'DeleteKey', 'CreateSecondaryAuthToken', 'DeleteSecondaryAuthToken', 'UpdateAuthTokenPromotion',
        'FetchLedgerHead', 'FetchEventProof',
      ]),
    );
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/2010-04-01/Accounts.json', '/v1/Events', '/v1/Events/{sid}', '/v1/Accounts/{sid}/History', '/v1/Accounts/{sid}/State']),
    );
    expect(doc.components.schemas).toHaveProperty('AccountSchema');
    expect(doc.components.schemas).toHaveProperty('MonitorEventSchema');
    expect(doc.components.schemas).toHaveProperty('TwilioErrorSchema');
    expect(doc.components.schemas).toHaveProperty('AccountHistoryPageSchema');
    expect(doc.components.schemas).toHaveProperty('AccountStateSchema');
    expect(doc.components.schemas).toHaveProperty('NewApiKeySchema');
    expect(doc.paths['/2010-04-01/Accounts/{sid}/Keys.json'].post.responses).toHaveProperty('201');
    expect(doc.paths['/v1/AuthTokens/Promote'].post.responses).toHaveProperty('200');
    expect(doc.components.schemas).toHaveProperty('LedgerHeadSchema');
    expect(doc.components.schemas).toHaveProperty('LedgerProofSchema');
    expect(doc.components.securitySchemes).toHaveProperty('accountSid_authToken');
    expect(doc.paths['/2010-04-01/Accounts.json'].post.responses).toHaveProperty('201');
  });

  it('/docs serves Swagger UI', async () => {
    const response = await fetch(`${url}/docs`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/swagger/i);
  });
});
