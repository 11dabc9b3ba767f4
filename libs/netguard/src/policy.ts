import { describeAddress } from "./classify.js";
import type { AddressDescription } from "./classify.js";
import { TargetRefusedError } from "./errors.js";

export interface TargetPolicy {
  /**
   * Accept loopback targets (and plain http:) for local development receivers. Only the literal
   * value `true` counts, so a stray "false" string from configuration cannot open the door.
   */
  readonly allowLoopback: boolean;
}

/** Snapshot of a policy, so a caller mutating its object later cannot loosen a guard already built. */
export function freezePolicy(policy: TargetPolicy): TargetPolicy {
  return Object.freeze({ allowLoopback: policy?.allowLoopback === true });
}

function isAllowed(description: AddressDescription, policy: TargetPolicy): boolean {
  if (description.addressClass === "public") return true;
  if (description.addressClass !== "loopback" || policy.allowLoopback !== true) return false;
  // Loopback embedded via NAT64, 6to4 or the deprecated IPv4-compatible form does not reach this
  // host (it goes to a translator or relay), so only real loopback and IPv4-mapped loopback qualify.
  return description.embedded === undefined || description.embedded.via === "ipv4-mapped";
}

function describeForReason(ip: string, description: AddressDescription): string {
  const embedded = description.embedded;
  const via = embedded === undefined ? "" : ` (${embedded.via} ${embedded.ipv4})`;
  return `${description.addressClass} address ${ip}${via}`;
}

/**
 * Throws TargetRefusedError(ADDRESS_NOT_ALLOWED) unless `ip` is public, or loopback under
 * `allowLoopback`. Link-local, metadata, private, CGNAT, documentation, … are refused whatever the policy.
 */
export function checkAddress(ip: string, policy: TargetPolicy): void {
  const description = describeAddress(ip);
  if (isAllowed(description, policy)) return;
  throw new TargetRefusedError("ADDRESS_NOT_ALLOWED", `${describeForReason(ip, description)} is not allowed`, {
    address: ip,
    addressClass: description.addressClass,
  });
}

/**
 * Throws ADDRESS_NOT_ALLOWED for a localhost name (see isLocalhostName) unless loopback is allowed.
 * The verdict needs no DNS: these names mean this host by definition.
 */
export function checkLocalhostName(hostname: string, policy: TargetPolicy): void {
  if (policy.allowLoopback === true) return;
  throw new TargetRefusedError("ADDRESS_NOT_ALLOWED", `loopback name ${hostname} is not allowed`, {
    addressClass: "loopback",
  });
}
