import { createHash } from "node:crypto";
import type { AcceptedEvent } from "./ingest-store.js";

const sha256 = (b: string) => createHash("sha256").update(b).digest();

/** An event as ingest accepts it (type `case.note`, empty data, no event type row), for tests that write below the routes. */
export function acceptedEvent(id: string): AcceptedEvent {
  return {
    id,
    producerId: true,
    type: "case.note",
    data: {},
    payload: Buffer.from("{}"),
    payloadSha256: sha256("{}"),
    occurredAt: new Date(),
    supersedes: null,
    metadata: null,
    callbackUrl: null,
    requestHash: sha256(id),
    eventTypeId: null as unknown as string,
    personalDataFields: [],
    callbackTarget: null,
  };
}
