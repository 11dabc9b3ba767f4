import { formatIPv4, matchesPrefix, parseIpBytes } from "./ip-bytes.js";
import { TargetRefusedError } from "./errors.js";

/**
 * What an address is, for the purpose of "may we POST a customer's webhook there?". Everything but
 * `public` is a special-purpose range from the IANA IPv4/IPv6 special-purpose registries (or a
 * cloud metadata endpoint, which gets its own class because it is the prize in SSRF attacks).
 */
export type AddressClass = "public" | "unspecified" | "loopback" | "private" | "link-local" | "metadata" | "cgnat" | "documentation" | "benchmarking" | "multicast" | "broadcast" | "reserved";

/** How an IPv6 address carries the IPv4 address it was classified by. */
export type IPv4Embedding = "ipv4-mapped" | "ipv4-compatible" | "nat64" | "6to4";

export interface AddressDescription {
  readonly addressClass: AddressClass;
  /** Set when an IPv6 address was classified by the IPv4 address inside it. */
  readonly embedded?: { readonly via: IPv4Embedding; readonly ipv4: string };
}

interface Range {
  readonly prefix: Uint8Array;
  readonly bits: number;
  readonly addressClass: AddressClass;
}

function range(cidr: string, addressClass: AddressClass): Range {
  const [base = "", bitsText = ""] = cidr.split("/");
  const prefix = parseIpBytes(base);
  const bits = Number(bitsText);
  if (prefix === undefined || !Number.isInteger(bits) || bits < 0 || bits > prefix.length * 8) {
    throw new Error(`netguard: bad range table entry ${cidr}`);
  }
  return { prefix, bits, addressClass };
}

// First match wins, so the single-address metadata entries sit before the ranges that contain them.
const IPV4_RANGES: readonly Range[] = [
  range("169.254.169.254/32", "metadata"), // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
  range("169.254.170.2/32", "metadata"), // AWS ECS task metadata / credentials
  range("100.100.100.200/32", "metadata"), // Alibaba Cloud
  range("192.0.0.192/32", "metadata"), // Oracle Cloud Classic
  range("255.255.255.255/32", "broadcast"),
  range("0.0.0.0/8", "unspecified"), // "this network"; connecting to 0.0.0.0 reaches the local host on Linux
  range("10.0.0.0/8", "private"),
  range("172.16.0.0/12", "private"),
  range("192.168.0.0/16", "private"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.0.0/16", "link-local"),
  range("100.64.0.0/10", "cgnat"),
  // IETF protocol assignments (DS-Lite, NAT64 discovery, …): not documentation, but never a receiver.
  range("192.0.0.0/24", "reserved"),
  range("192.0.2.0/24", "documentation"),
  range("198.51.100.0/24", "documentation"),
  range("203.0.113.0/24", "documentation"),
  range("198.18.0.0/15", "benchmarking"),
  range("192.88.99.0/24", "reserved"), // deprecated 6to4 relay anycast
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved"),
];

// ::/128 and ::1/128 lie inside ::/96 (IPv4-compatible) but are IPv6 addresses in their own right,
// so they are matched before the embedding rules.
const IPV6_OWN: readonly Range[] = [range("::/128", "unspecified"), range("::1/128", "loopback")];

const IPV6_RANGES: readonly Range[] = [
  range("fd00:ec2::254/128", "metadata"), // AWS IMDS over IPv6
  range("fd20:ce::254/128", "metadata"), // GCP metadata server on IPv6-only VMs
  range("fe80::/10", "link-local"),
  range("fec0::/10", "private"), // deprecated site-local, the old "private"
  range("fc00::/7", "private"), // unique-local
  range("ff00::/8", "multicast"),
  range("2001:db8::/32", "documentation"),
  range("3fff::/20", "documentation"), // RFC 9637
  range("2001:2::/48", "benchmarking"),
  // IETF protocol assignments incl. Teredo (whose client address is obfuscated): no receivers live here.
  range("2001::/23", "reserved"),
];

/** Global unicast. Anything outside it that no rule above named is unassigned or special: refuse. */
const IPV6_GLOBAL_UNICAST = range("2000::/3", "public");

// IPv6 forms that carry an IPv4 address and, when connected to, end up talking to that IPv4 host
// (directly on a dual-stack socket, or via a translator/relay). They are judged by what they carry.
const IPV4_EMBEDDINGS: readonly { readonly range: Range; readonly via: IPv4Embedding; readonly offset: number }[] = [
  { range: range("::ffff:0:0/96", "reserved"), via: "ipv4-mapped", offset: 12 },
  { range: range("::/96", "reserved"), via: "ipv4-compatible", offset: 12 },
  { range: range("64:ff9b::/96", "reserved"), via: "nat64", offset: 12 },
  { range: range("2002::/16", "reserved"), via: "6to4", offset: 2 },
];

function firstMatch(bytes: Uint8Array, ranges: readonly Range[]): Range | undefined {
  return ranges.find((r) => matchesPrefix(bytes, r.prefix, r.bits));
}

function classifyIPv4Bytes(bytes: Uint8Array): AddressClass {
  return firstMatch(bytes, IPV4_RANGES)?.addressClass ?? "public";
}

function describeIPv6Bytes(bytes: Uint8Array): AddressDescription {
  const exact = firstMatch(bytes, IPV6_OWN);
  if (exact !== undefined) return { addressClass: exact.addressClass };

  for (const embedding of IPV4_EMBEDDINGS) {
    if (!matchesPrefix(bytes, embedding.range.prefix, embedding.range.bits)) continue;
    const ipv4 = bytes.subarray(embedding.offset, embedding.offset + 4);
    return {
      addressClass: classifyIPv4Bytes(ipv4),
      embedded: { via: embedding.via, ipv4: formatIPv4(ipv4) },
    };
  }

  const special = firstMatch(bytes, IPV6_RANGES);
  if (special !== undefined) return { addressClass: special.addressClass };
  return { addressClass: matchesPrefix(bytes, IPV6_GLOBAL_UNICAST.prefix, IPV6_GLOBAL_UNICAST.bits) ? "public" : "reserved" };
}

/**
 * Class of an IP address plus, for IPv6 forms that embed IPv4, the embedded address. Throws
 * TargetRefusedError(ADDRESS_NOT_ALLOWED) for text that is not an IP address: a caller that got
 * here with garbage (e.g. from a misbehaving resolver) must fail closed.
 */
export function describeAddress(ip: string): AddressDescription {
  const bytes = parseIpBytes(ip);
  if (bytes === undefined) {
    throw new TargetRefusedError("ADDRESS_NOT_ALLOWED", `invalid address ${JSON.stringify(String(ip)).slice(0, 80)}`);
  }
  return bytes.length === 4 ? { addressClass: classifyIPv4Bytes(bytes) } : describeIPv6Bytes(bytes);
}

/** `public`, or the special-purpose class of `ip` (IPv4 or IPv6 text, as node:net's isIP accepts). */
export function classifyAddress(ip: string): AddressClass {
  return describeAddress(ip).addressClass;
}
