import type pg from "pg";

/**
 * `COPY (…) TO STDOUT` on a node-postgres client, everything it sends gathered into one buffer:
 * with `(FORMAT binary)`, bytea and text columns arrive as their raw bytes — no hex or UTF-8 to
 * decode, no row objects to build. (node-postgres runs any object with `submit` as a query and hands
 * it the protocol messages; this is the part of pg-copy-streams the audit needs.)
 */
export function copyOut(client: pg.ClientBase, text: string, into?: CopyBuffer): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let data = into?.bytes ?? Buffer.allocUnsafe(1 << 16);
    let size = 0;
    let failure: unknown;
    const query = {
      text,
      submit(connection: { query(text: string): void }) {
        connection.query(text);
      },
      handleCopyData(msg: { chunk: Buffer }) {
        // The message is a view into the parser's buffer, which is reused: copy it out now.
        const chunk = msg.chunk;
        if (size + chunk.length > data.length) {
          let capacity = data.length * 2;
          while (capacity < size + chunk.length) capacity *= 2;
          const grown = Buffer.allocUnsafe(capacity);
          grown.set(data.subarray(0, size));
          data = grown;
        }
        data.set(chunk, size);
        size += chunk.length;
      },
      handleCommandComplete() {},
      handleEmptyQuery() {},
      handleError(err: unknown) {
        // Postgres still sends ReadyForQuery after an error; settle now, the client moves on then.
        failure = err;
        reject(err);
      },
      handleReadyForQuery() {
        if (into !== undefined) into.bytes = data;
        if (failure === undefined) resolve(data.subarray(0, size));
      },
    };
    client.query(query as unknown as pg.Submittable);
  });
}

/**
 * A buffer copyOut may fill (and grows as needed), so that reading chunk after chunk does not
 * allocate megabytes each time. What copyOut returned from it is valid until the next copyOut into it.
 */
export interface CopyBuffer {
  bytes: Buffer | undefined;
}

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/**
 * Walks the tuples of a binary COPY (PostgreSQL docs, "Binary Format"): calls `tuple` with the
 * offset of each tuple's first field; `tuple` returns the offset after the tuple. Returns the count.
 */
export function forEachCopyTuple(bytes: Buffer, fields: number, tuple: (at: number, i: number) => number): number {
  if (bytes.length < 19 || !bytes.subarray(0, 11).equals(SIGNATURE)) throw new Error("COPY output is not in binary format");
  let at = 11 + 4;
  at += 4 + bytes.readUInt32BE(at);
  let count = 0;
  for (;;) {
    const n = bytes.readInt16BE(at);
    at += 2;
    if (n === -1) break;
    if (n !== fields) throw new Error(`COPY tuple has ${n} fields, expected ${fields}`);
    at = tuple(at, count++);
  }
  if (at !== bytes.length) throw new Error(`COPY output has ${bytes.length - at} bytes after its trailer`);
  return count;
}
