import { AppError } from "@custody/errors";
import { parseTargetUrl, resolveAndCheck, systemResolver, TargetRefusedError, type Resolver, type TargetPolicy } from "@custody/netguard";

/**
 * The SSRF check of per-event callback URLs. A batch may carry hundreds of callbacks to a few hosts,
 * so one checker resolves each host once per request. The delivery worker checks again at connect
 * time: DNS can change between now and then.
 */
export function callbackTargetChecker(policy: TargetPolicy, resolver: Resolver = systemResolver): (raw: string, field: string) => Promise<string> {
  const hosts = new Map<string, Promise<unknown>>();
  return async (raw, field) => {
    try {
      const url = parseTargetUrl(raw, policy);
      let resolved = hosts.get(url.hostname);
      if (!resolved) {
        resolved = resolveAndCheck(url.hostname, policy, resolver);
        // Settled either way before anyone awaits it, so an unawaited rejection is never reported as unhandled.
        resolved.catch(() => undefined);
        hosts.set(url.hostname, resolved);
      }
      await resolved;
      // Normalised (`https://2130706433/` is `https://127.0.0.1/`): what is stored is what gets called.
      return url.href;
    } catch (err) {
      if (!(err instanceof TargetRefusedError)) throw err;
      throw new AppError("TARGET_REFUSED", `callbackUrl refused: ${err.reason}`, {
        field,
        details: { reason: err.code, ...(err.addressClass === undefined ? {} : { addressClass: err.addressClass }) },
      });
    }
  };
}
