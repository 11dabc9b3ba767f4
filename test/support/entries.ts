import { createHash } from "node:crypto";
import { encodeEntry, eventEntry, type EventEntry } from "@custody/ledger";

/**
 * A well-formed event entry for tests that append to the ledger directly: distinct for each label,
 * and a kind the audit accepts (FORMAT §3), unlike a free-form document.
 */
export function testEventEntry(label: string | number): EventEntry {
  return eventEntry({
    tenantId: "ten_ledgertest",
    eventId: `evt_${label}`,
    type: "ledger.test",
    payloadSha256: createHash("sha256").update(String(label)).digest(),
    occurredAt: new Date("2026-12-01T00:00:00.000Z"),
    supersedes: null,
  });
}

/** testEventEntry's bytes, for a row inserted as a superuser would. */
export function testEventEntryBytes(label: string | number): Buffer {
  return Buffer.from(encodeEntry(testEventEntry(label)));
}
