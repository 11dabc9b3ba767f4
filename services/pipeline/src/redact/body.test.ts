import { describe, expect, it } from "vitest";
import { verifyRedaction, type JsonValue } from "@custody/redact";
import { prepareBody } from "./body.js";

const event = { id: "evt_1", type: "identity.registration.final", occurredAt: new Date("2026-11-23T10:00:00Z"), supersedes: null, metadata: null };
const data = { user: { email: "a@example.com", name: "Ada" }, plan: "pro" };

describe("prepareBody", () => {
  it("removes personal fields for thin endpoints and says which", () => {
    const prepared = prepareBody(event, data, ["/user/email"], "thin");
    const body = JSON.parse(new TextDecoder().decode(prepared.body));
    expect(body).toEqual({
      id: "evt_1",
      type: "identity.registration.final",
      timestamp: "2026-11-23T10:00:00.000Z",
      data: { user: { name: "Ada" }, plan: "pro" },
      payloadShape: "thin",
      redacted: ["/user/email"],
    });
    verifyRedaction({ original: data, delivered: body.data as JsonValue, removed: prepared.removed });
    expect(prepared.redactedHop).toHaveLength(32);
  });

  it("sends everything to fat endpoints, and the body is canonical JSON", () => {
    const prepared = prepareBody({ ...event, supersedes: "evt_0", metadata: { b: 1, a: 2 } }, data, ["/user/email"], "fat", new Set(["identity.registration.final.user/email"]));
    const text = new TextDecoder().decode(prepared.body);
    expect(text).toBe('{"data":{"plan":"pro","user":{"email":"a@example.com","name":"Ada"}},"id":"evt_1","metadata":{"a":2,"b":1},"payloadShape":"fat","redacted":[],"supersedes":"evt_0","timestamp":"2026-11-23T10:00:00.000Z","type":"identity.registration.final"}');
    expect(prepared.removed).toEqual([]);
  });

  it("keeps a personal field from a fat endpoint until it is acknowledged", () => {
    const prepared = prepareBody(event, data, ["/user/email", "/user/name"], "fat", new Set(["identity.registration.final.user/name"]));
    const body = JSON.parse(new TextDecoder().decode(prepared.body));
    expect(body.data).toEqual({ user: { name: "Ada" }, plan: "pro" });
    expect(body).toMatchObject({ payloadShape: "fat", redacted: ["/user/email"] });
  });
});
