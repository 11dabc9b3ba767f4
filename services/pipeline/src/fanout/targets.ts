import { matchesSubscription } from "@custody/redact";

export interface EndpointView {
  id: string;
  url: string;
  subscriptions: readonly string[];
}

export type Target = { kind: "endpoint"; endpointId: string; url: string } | { kind: "callback"; url: string };

/**
 * The targets of one event: every enabled endpoint with a subscription pattern matching its type,
 * plus its one-shot callback URL. Pure; the caller passes only the tenant's enabled endpoints.
 */
export function targetsFor(event: { type: string; callbackUrl: string | null }, endpoints: readonly EndpointView[]): Target[] {
  const targets: Target[] = endpoints
    .filter((e) => e.subscriptions.some((pattern) => matchesSubscription(event.type, pattern)))
    .map((e) => ({ kind: "endpoint", endpointId: e.id, url: e.url }));
  if (event.callbackUrl !== null) targets.push({ kind: "callback", url: event.callbackUrl });
  return targets;
}
