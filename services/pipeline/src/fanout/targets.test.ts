import { describe, expect, it } from "vitest";
import { targetsFor } from "./targets.js";

const endpoints = [
  { id: "wh_final", url: "https://a.example/hook", subscriptions: ["*.final", "*.recalled"] },
  { id: "wh_identity", url: "https://b.example/hook", subscriptions: ["identity.*"] },
  { id: "wh_none", url: "https://c.example/hook", subscriptions: ["billing.invoice.paid"] },
];

describe("targetsFor", () => {
  it("matches subscription patterns and adds the one-shot callback", () => {
    expect(targetsFor({ type: "identity.registration.final", callbackUrl: "https://cb.example/x" }, endpoints)).toEqual([
      { kind: "endpoint", endpointId: "wh_final", url: "https://a.example/hook" },
      { kind: "endpoint", endpointId: "wh_identity", url: "https://b.example/hook" },
      { kind: "callback", url: "https://cb.example/x" },
    ]);
  });

  it("returns nothing when nothing matches and there is no callback", () => {
    expect(targetsFor({ type: "case.completed", callbackUrl: null }, endpoints)).toEqual([]);
  });
});
