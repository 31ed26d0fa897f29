import { execFile, spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { binaries, serverUser, type EmbeddedPostgres } from './embedded-postgres';

const run = promisify(execFile);

export interface EmbeddedReplica {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * A streaming replica of an embedded primary, for trying READ_DATABASE_URL on one machine (and
 * for the tests that prove read-your-writes against a real standby). It takes a low-level base
 * backup (pg_backup_start / copy / pg_backup_stop — the embedded package ships no
 * pg_basebackup), then starts the copy as a hot standby streaming through a replication slot.
 */
export async function startEmbeddedReplica(options: {
  primary: EmbeddedPostgres;
  primaryDataDir: string;
  dataDir: string;
  port: number;
}): Promise<EmbeddedReplica> {
  const source = path.resolve(options.primaryDataDir, 'pg');
  const target = path.resolve(options.dataDir, 'pg');
  const password = (await readFile(path.resolve(options.primaryDataDir, 'pg-password'), 'utf8')).trim();
  const slot = `replica_${options.port}`;
  const admin = new pg.Client({ connectionString: options.primary.adminUrl });
  await admin.connect();
  try {
    await admin.query(`SELECT pg_create_physical_replication_slot($1, true)`, [slot]);
    await admin.query(`SELECT pg_backup_start('replica', true)`);
    await mkdir(options.dataDir, { recursive: true });
    await rm(target, { recursive: true, force: true });
    await cp(source, target, {
      recursive: true,
      filter: (file) => !/(^|\/)(postmaster\.pid|postmaster\.opts|pg_wal\/.+|pg_replslot\/.+)$/.test(path.relative(source, file)),
    });
    const { rows } = await admin.query<{ labelfile: string }>(`SELECT labelfile FROM pg_backup_stop(true)`);
    await writeFile(path.join(target, 'backup_label'), rows[0].labelfile);
  } finally {
    await admin.end();
  }
  await writeFile(path.join(target, 'standby.signal'), '');
  await appendFile(
    path.join(target, 'postgresql.auto.conf'),
    `\nprimary_conninfo = 'host=127.0.0.1 port=${options.primary.port} user=postgres password=${password}'\nprimary_slot_name = '${slot}'\nhot_standby = on\n`,
  );
  const owner = await serverUser();
  if (owner.uid !== undefined) {
    spawnSync('chown', ['-R', `${owner.uid}:${owner.gid}`, options.dataDir]);
    spawnSync('chmod', ['700', target]);
  }
  const { pg_ctl } = binaries();
  await run(
    pg_ctl,
    ['start', '-w', '-t', '60', '-D', target, '-l', path.join(options.dataDir, 'postgres.log'), '-o', `-p ${options.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`],
    owner,
  );
  const database = new URL(options.primary.url).pathname;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}${database}`,
    port: options.port,
    async stop() {
      await run(pg_ctl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', target], owner).catch(() => undefined);
    },
  };
}
