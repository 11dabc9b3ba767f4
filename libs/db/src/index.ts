export { createClient, createDb, createPool, ensureDatabase, splitDatabaseUrl, type Db, type DbSettings } from "./connect.js";
export { migrate, readMigrations, MIGRATIONS_DIR, type Migration, type MigrationReport } from "./migrate.js";
export { newId, newOrderedId } from "./ids.js";
export { fixedAtomicWrite, writeAtomically, WriteConflict, type Slots, type WritePart } from "./statement.js";
export { pingDatabase, postgresReadiness } from "./ping.js";
export type * from "./tables.js";
export { sql, Kysely, PostgresDialect, type Transaction, type RawBuilder } from "kysely";
export { arrayParam, columnParams, columnsOf, encodeArray, type ArrayElementType, type ArrayValue } from "./arrays.js";
