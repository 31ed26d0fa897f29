import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

/**
 * The floor the service is compared with: bare Fastify and pg, no framework, no auth check, no
 * event log. POST inserts one row (shaped like the account read model) and returns it; GET
 * selects one row by primary key. Same pool size as the service's default (DB_POOL_MAX).
 */
async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20, application_name: 'bench-baseline' });
  pool.on('error', () => undefined);
  const table = 'bench_append.baseline_accounts';
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post('/accounts', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>;
    const owner = ownerFrom(request.headers.authorization) ?? 'AC00000000000000000000000000000000';
    const sid = `AC${randomBytes(16).toString('hex')}`;
    const { rows } = await pool.query(
      `INSERT INTO ${table} (sid, owner_account_sid, is_main, friendly_name, type, status, auth_token, date_created, date_updated, version)
       VALUES ($1, $2, false, $3, 'Full', 'active', $4, date_trunc('milliseconds', now()), date_trunc('milliseconds', now()), 1)
       RETURNING *`,
      [sid, owner, body.FriendlyName ?? 'SubAccount', randomBytes(48).toString('base64url')],
    );
    return reply.code(201).send(rows[0]);
  });

  app.get<{ Params: { sid: string } }>('/accounts/:sid', async (request, reply) => {
    const { rows } = await pool.query(`SELECT * FROM ${table} WHERE sid = $1`, [request.params.sid]);
    if (rows.length === 0) return reply.code(404).send({ code: 20404 });
    return rows[0];
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  process.stdout.write(`baseline listening on http://127.0.0.1:${address.port}\n`);
  process.on('SIGTERM', () => {
    void app.close().then(() => pool.end()).finally(() => process.exit(0));
  });
}

function ownerFrom(header: string | undefined): string | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon) : null;
}

main().catch((error) => {
  process.stderr.write(`baseline failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
