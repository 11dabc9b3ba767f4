import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, redactionHopBytes, verifyRedaction, type JsonValue } from "@custody/redact";
import { sha256 } from "@custody/crypto";
import { pathsToRemove, rebuildBody, redactForDelivery, type EventForBody } from "./body.js";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const eventOf = (data: JsonValue, over: Partial<EventForBody> = {}): EventForBody => ({
  id: "evt_1",
  type: "identity.registration.final",
  occurredAt: new Date("2026-11-23T10:00:00Z"),
  supersedes: null,
  metadata: null,
  payload: enc(canonicalJson(data)),
  ...over,
});

/** FORMAT.md §4 read literally: the JCS of the whole envelope. */
function envelopeJcs(event: EventForBody, delivered: JsonValue, shape: string, redacted: string[]): string {
  const envelope: Record<string, JsonValue> = { id: event.id, type: event.type, timestamp: event.occurredAt.toISOString(), data: delivered, payloadShape: shape, redacted };
  if (event.supersedes !== null) envelope.supersedes = event.supersedes;
  if (event.metadata !== null) envelope.metadata = event.metadata;
  return canonicalJson(envelope);
}

const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
const data = fc.dictionary(fc.constantFrom("email", "name", "plan", "profile", "é", "\u{1F600}"), json, { maxKeys: 5 }) as fc.Arbitrary<JsonValue>;

describe("delivery body", () => {
  it("is exactly the JCS of the envelope, with and without removals, metadata and supersedes", () => {
    fc.assert(
      fc.property(data, fc.subarray(["/email", "/name", "/profile/x", "/plan"]), fc.option(json), fc.boolean(), (d, paths, metadata, supersedes) => {
        const event = eventOf(d, { metadata: metadata ?? null, supersedes: supersedes ? "evt_0" : null });
        const prepared = redactForDelivery(event, paths, "thin");
        const delivered = JSON.parse(text(prepared.body)).data as JsonValue;
        const removedPaths = prepared.redaction.removed.map((r) => r.path);
        expect(text(prepared.body)).toBe(envelopeJcs(event, delivered, "thin", removedPaths));
        expect(prepared.redactedHop).toEqual(sha256(redactionHopBytes(delivered, prepared.redaction.removed)));
        verifyRedaction({ original: d, delivered, removed: prepared.redaction.removed });
        // Every later attempt rebuilds the very same bytes from the redaction record.
        const again = rebuildBody(event, prepared.redaction);
        expect(text(again.body)).toBe(text(prepared.body));
        expect(again.redactedHop).toEqual(prepared.redactedHop);
      }),
      { numRuns: 300 },
    );
  });

  it("sends a fat endpoint only the personal fields it acknowledged", () => {
    const event = eventOf({ email: "a@example.com", name: "Ada", plan: "pro" });
    const paths = pathsToRemove(event.type, ["/email", "/name"], "fat", new Set(["identity.registration.final.name"]));
    const prepared = redactForDelivery(event, paths, "fat");
    expect(JSON.parse(text(prepared.body))).toEqual({
      id: "evt_1",
      type: "identity.registration.final",
      timestamp: "2026-11-23T10:00:00.000Z",
      data: { name: "Ada", plan: "pro" },
      payloadShape: "fat",
      redacted: ["/email"],
    });
    expect(pathsToRemove(event.type, ["/email", "/name"], "thin", new Set(["identity.registration.final.name"]))).toEqual(["/email", "/name"]);
  });

  it("lists nothing for personal fields the event does not have", () => {
    const prepared = redactForDelivery(eventOf({ plan: "pro" }), ["/email"], "thin");
    expect(prepared.redaction.removed).toEqual([]);
    expect(text(prepared.body)).toBe('{"data":{"plan":"pro"},"id":"evt_1","payloadShape":"thin","redacted":[],"timestamp":"2026-11-23T10:00:00.000Z","type":"identity.registration.final"}');
  });
});
