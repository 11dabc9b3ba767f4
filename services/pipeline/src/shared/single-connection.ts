import { Kysely, PostgresDialect, type Database } from "@custody/db";
import type pg from "pg";

/**
 * A Kysely instance bound to one connection. The sequencer's leadership is a session advisory lock,
 * so every statement it runs must go through the very session that holds the lock: if that
 * connection dies, the lock and any open transaction die with it, and nothing can be written by a
 * sequencer that no longer leads.
 */
export function kyselyOnClient(client: pg.Client): Kysely<Database> {
  const pool = {
    connect: async () => ({ query: client.query.bind(client), release: () => undefined }),
    end: async () => undefined,
  };
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: pool as unknown as pg.Pool }) });
}
