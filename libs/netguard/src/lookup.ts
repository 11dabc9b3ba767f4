import type { LookupAddress, LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";
import { TargetRefusedError } from "./errors.js";
import { freezePolicy } from "./policy.js";
import type { TargetPolicy } from "./policy.js";
import { resolveAndCheck, systemResolver } from "./resolve.js";
import type { Resolver } from "./resolve.js";

function requestedFamily(options: LookupOptions | number | undefined): 0 | 4 | 6 {
  // node:dns also accepts a bare family number; net always passes an object, but be liberal here.
  const family = typeof options === "number" ? options : options?.family;
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  return 0;
}

/**
 * A `lookup` for node:net / node:http / node:https agents and undici's `connect: { lookup }`, so the
 * address check runs again at CONNECT time on the addresses actually connected to. This defeats DNS
 * rebinding: a name that was public at registration but points at 127.0.0.1 now is refused here.
 * Note node:net skips `lookup` for IP-literal hosts, so those must go through parseTargetUrl.
 */
export function guardedLookup(policy: TargetPolicy, resolver: Resolver = systemResolver): LookupFunction {
  const frozen = freezePolicy(policy);
  return (hostname, options, callback) => {
    const family = requestedFamily(options as LookupOptions | number | undefined);
    const all = typeof options === "object" && options !== null && options.all === true;

    resolveAndCheck(hostname, frozen, resolver).then(
      (addresses) => {
        // Every address was checked; the family filter only narrows what we hand back.
        const wanted = family === 0 ? addresses : addresses.filter((a) => a.family === family);
        const first = wanted[0];
        // Callbacks run on a fresh tick so an exception in them is not swallowed by this promise.
        if (first === undefined) {
          const error = new TargetRefusedError("HOST_NOT_RESOLVABLE", `${hostname} has no IPv${family} address`);
          process.nextTick(() => callback(error, all ? [] : ""));
        } else if (all) {
          const list: LookupAddress[] = wanted.map((a) => ({ address: a.address, family: a.family }));
          process.nextTick(() => callback(null, list));
        } else {
          process.nextTick(() => callback(null, first.address, first.family));
        }
      },
      (error: unknown) => {
        const refused = error instanceof TargetRefusedError ? error : new TargetRefusedError("HOST_NOT_RESOLVABLE", `${hostname} could not be checked`, { cause: error });
        process.nextTick(() => callback(refused, all ? [] : ""));
      },
    );
  };
}
