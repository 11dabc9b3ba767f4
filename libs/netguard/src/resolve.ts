import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { TargetRefusedError } from "./errors.js";
import { isLocalhostName, stripBrackets } from "./hostnames.js";
import { checkAddress, checkLocalhostName, freezePolicy } from "./policy.js";
import type { TargetPolicy } from "./policy.js";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Name → every address it has. Injected so tests (and callers with their own DNS) need no real DNS. */
export type Resolver = (hostname: string) => Promise<readonly { readonly address: string; readonly family?: number }[]>;

/**
 * The OS resolver (getaddrinfo: /etc/hosts, search domains, …), which is what node:net would use to
 * connect. All addresses, in the resolver's order, so every one of them gets checked.
 */
export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown error";
}

/**
 * Resolves `hostname` and checks EVERY address: one public and one private address is a refusal,
 * because the connection may use either. Returns the checked addresses (connect to these, do not
 * resolve again). IP literals are checked without calling the resolver; localhost names are
 * refused without DNS unless loopback is allowed.
 */
export async function resolveAndCheck(hostname: string, policy: TargetPolicy, resolver: Resolver = systemResolver): Promise<ResolvedAddress[]> {
  const frozen = freezePolicy(policy);
  if (typeof hostname !== "string" || hostname === "") {
    throw new TargetRefusedError("HOST_NOT_RESOLVABLE", "hostname is empty or not a string");
  }
  const literal = stripBrackets(hostname);
  const literalFamily = isIP(literal);
  if (literalFamily === 4 || literalFamily === 6) {
    checkAddress(literal, frozen);
    return [{ address: literal, family: literalFamily }];
  }
  if (isLocalhostName(hostname)) checkLocalhostName(hostname, frozen);

  let answers: Awaited<ReturnType<Resolver>>;
  try {
    answers = await resolver(hostname);
  } catch (cause) {
    // Includes transient failures (EAI_AGAIN): the code in the reason lets a caller decide to retry.
    throw new TargetRefusedError("HOST_NOT_RESOLVABLE", `${hostname} did not resolve (${errorCode(cause)})`, { cause });
  }
  if (!Array.isArray(answers) || answers.length === 0) {
    throw new TargetRefusedError("HOST_NOT_RESOLVABLE", `${hostname} resolved to no addresses`);
  }

  const resolved: ResolvedAddress[] = [];
  for (const answer of answers) {
    const address = String(answer?.address);
    try {
      checkAddress(address, frozen);
    } catch (error) {
      if (!(error instanceof TargetRefusedError)) throw error;
      throw new TargetRefusedError(error.code, `${hostname}: ${error.reason}`, {
        ...(error.address === undefined ? {} : { address: error.address }),
        ...(error.addressClass === undefined ? {} : { addressClass: error.addressClass }),
        cause: error,
      });
    }
    // Family comes from the address itself, not from what the resolver claims.
    resolved.push({ address, family: isIP(address) === 6 ? 6 : 4 });
  }
  return resolved;
}
