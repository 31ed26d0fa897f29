import type pg from 'pg';

/** The 11-byte signature, flags and header-extension length that open a binary COPY (PostgreSQL docs, "Binary Format"). */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_BYTES = SIGNATURE.length + 8;

/**
 * `COPY (query) TO STDOUT (FORMAT binary)` on a client of `pool`, each tuple handed to `onTuple`
 * as it arrives — synchronously, inside the socket's read, so the server is held back by TCP when
 * the caller is slower (memory stays one socket buffer), and no row becomes a JavaScript object.
 * `tuple` is only valid during the call (pg-protocol reuses its buffer). The tuple starts with its
 * int16 field count. An error thrown by `onTuple` ends the copy with that error.
 *
 * pg (8.x) has no binary row mode (its parser decodes every field as UTF-8 text); this is its
 * documented "submittable" interface, the one pg-copy-streams uses.
 */
export async function copyOut(pool: pg.Pool, text: string, onTuple: (tuple: Buffer) => void): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    await new Promise<void>((resolve, reject) => {
      let headerSeen = false;
      let failure: unknown;
      let settled = false;
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        if (error === undefined) resolve();
        else reject(error);
      };
      const submittable = {
        submit(connection: { query(text: string): void }) {
          connection.query(text);
        },
        handleCopyData(message: { chunk: Buffer }) {
          if (failure !== undefined) return;
          let chunk = message.chunk;
          try {
            if (!headerSeen) {
              if (chunk.length < HEADER_BYTES || !chunk.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('copyOut: not a binary COPY stream');
              chunk = chunk.subarray(HEADER_BYTES + chunk.readUInt32BE(SIGNATURE.length + 4));
              headerSeen = true;
              if (chunk.length === 0) return;
            }
            // The trailer: a field count of -1.
            if (chunk.length === 2 && chunk.readInt16BE(0) === -1) return;
            onTuple(chunk);
          } catch (error) {
            failure = error;
          }
        },
        handleCommandComplete() {},
        handleRowDescription() {},
        handleDataRow() {},
        handleEmptyQuery() {},
        handlePortalSuspended() {},
        handleCopyInResponse() {
          failure ??= new Error('copyOut: the server expected COPY FROM data');
        },
        handleError(error: unknown) {
          broken = true;
          settle(error);
        },
        handleReadyForQuery() {
          settle(failure);
        },
      };
      client.query(submittable as unknown as pg.QueryConfig);
    });
  } catch (error) {
    // A copy ended by the server or the socket leaves the session in no known state.
    broken = true;
    throw error;
  } finally {
    client.release(broken);
  }
}
