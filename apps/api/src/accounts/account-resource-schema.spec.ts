import Fastify from 'fastify';
import { ACCOUNT_RESOURCE_JSON_SCHEMA, toAccountResource, type AccountResource } from '@accountable/twilio';

/**
 * Accounts answers in JSON are written by Fastify's serializer for the routes' response schema
 * (fast-json-stringify), not by JSON.stringify: the bytes must be the same, every key in its
 * place, whatever a friendly name holds.
 */
describe('ACCOUNT_RESOURCE_JSON_SCHEMA', () => {
  const resource = (friendlyName: string): AccountResource =>
    toAccountResource({
      sid: 'AC0123456789abcdef0123456789abcdef',
      ownerAccountSid: 'ACfedcba9876543210fedcba9876543210',
      friendlyName,
      status: 'active',
      type: 'Full',
      authToken: '0123456789abcdef0123456789abcdef',
      dateCreated: new Date('2026-12-05T15:00:00.000Z'),
      dateUpdated: new Date('2026-12-05T15:00:01.000Z'),
    });
  const names = ['My account', 'quote " backslash \\ slash /', 'control \u0000\u0001\n\t\u001f', 'unicode é 日本 🎉 \u2028\u2029', '<xml> & "csv",', ''];

  it('serializes every account exactly as JSON.stringify does', async () => {
    const app = Fastify();
    app.get<{ Params: { i: string } }>('/:i', { schema: { response: { 200: ACCOUNT_RESOURCE_JSON_SCHEMA } } }, async (request) => resource(names[Number(request.params.i)]));
    try {
      for (const [i, name] of names.entries()) {
        const answer = await app.inject(`/${i}`);
        expect(answer.statusCode).toBe(200);
        expect(answer.body).toBe(JSON.stringify(resource(name)));
      }
    } finally {
      await app.close();
    }
  });

  it('names every key of the resource, the subresources included', () => {
    const sample = resource('x');
    expect(Object.keys(ACCOUNT_RESOURCE_JSON_SCHEMA.properties)).toEqual(Object.keys(sample));
    expect(Object.keys(ACCOUNT_RESOURCE_JSON_SCHEMA.properties.subresource_uris.properties)).toEqual(Object.keys(sample.subresource_uris));
  });
});
