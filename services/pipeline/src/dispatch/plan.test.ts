import { describe, expect, it } from "vitest";
import { sha256 } from "@custody/crypto";
import { canonicalJson, redactionHopBytes, verifyRedaction, type JsonValue } from "@custody/redact";
import { generateSecret, secretKeyId } from "@custody/signing";
import type { EndpointInfo } from "../shared/endpoints.js";
import { endpointInfo } from "../shared/endpoints.fixture.js";
import { ownerKey } from "../shared/secrets.js";
import { eventForBody, redactForDelivery } from "./body.js";
import { planDeliveries, type DispatchEvent } from "./plan.js";

const TENANT = "ten_plan";
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function event(eventId: string, data: JsonValue, personalDataFields: string[]): DispatchEvent {
  return {
    tenantId: TENANT,
    eventId,
    type: "user.created",
    occurredAt: new Date("2026-12-04T12:00:00Z"),
    supersedes: null,
    metadata: { source: "plan.test" },
    payload: new TextEncoder().encode(canonicalJson(data)),
    callbackUrl: null,
    ingested: new Uint8Array(32),
    personalDataFields,
  };
}

function plan(events: DispatchEvent[], endpoints: EndpointInfo[]) {
  const secret = generateSecret();
  let n = 0;
  return planDeliveries({
    events,
    endpointsOf: () => endpoints,
    secrets: new Map(endpoints.map((e) => [ownerKey({ tenantId: TENANT, endpointId: e.id }), [{ secret, keyId: secretKeyId(secret) }]])),
    existing: new Set(),
    canSendNow: () => true,
    parkMsOf: () => 0,
    now: new Date("2026-12-04T12:00:01Z"),
    newId: () => `dlv_${++n}`,
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
  });
}

describe("planDeliveries", () => {
  const endpoints = [endpointInfo(TENANT, "wh_thin_a"), endpointInfo(TENANT, "wh_thin_b"), endpointInfo(TENANT, "wh_fat", "fat", ["user.created.email"])];

  it("gives every delivery the body its target alone would get, built once per shape when nothing is removed", () => {
    const events = [event("evt_plain", { plan: "pro", n: 1 }, []), event("evt_other", { plan: "free", n: 2 }, [])];
    const planned = plan(events, endpoints);
    expect(planned).toHaveLength(6);
    for (const p of planned) {
      const e = events.find((x) => x.eventId === p.delivery.eventId)!;
      const shape = p.delivery.endpointId === "wh_fat" ? "fat" : "thin";
      const alone = redactForDelivery(eventForBody(e, e.payload!), [], shape);
      expect(text(p.body!)).toBe(text(alone.body));
      expect(p.attempt!.redacted).toEqual(alone.redactedHop);
      expect(p.delivery.redaction).toEqual({ shape, removed: [] });
    }
    // The two thin deliveries of one event share the bytes; the events' bodies stay their own.
    const bodies = planned.map((p) => text(p.body!));
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[0]).not.toBe(bodies[2]);
    expect(bodies[0]).not.toBe(bodies[3]);
  });

  it("redacts each delivery with salts of its own", () => {
    const data = { email: "ada@example.com", plan: "pro" };
    const planned = plan([event("evt_personal", data, ["/email"])], endpoints);
    const [a, b, fat] = planned;
    expect(a!.delivery.redaction!.removed.map((r) => r.path)).toEqual(["/email"]);
    expect(a!.delivery.redaction!.removed[0]!.salt).not.toBe(b!.delivery.redaction!.removed[0]!.salt);
    expect(a!.attempt!.redacted).not.toEqual(b!.attempt!.redacted);
    for (const p of [a!, b!]) {
      const delivered = JSON.parse(text(p.body!)).data as JsonValue;
      verifyRedaction({ original: data, delivered, removed: [...p.delivery.redaction!.removed] });
      expect(p.attempt!.redacted).toEqual(sha256(redactionHopBytes(delivered, [...p.delivery.redaction!.removed])));
    }
    // The fat endpoint acknowledged the email: it gets the payload whole.
    expect(JSON.parse(text(fat!.body!)).data).toEqual(data);
    expect(fat!.delivery.redaction).toEqual({ shape: "fat", removed: [] });
  });
});
