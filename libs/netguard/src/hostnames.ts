/**
 * RFC 6761 §6.3: "localhost" and every name under it mean this host, and resolvers are expected to
 * answer with loopback. We treat them as loopback without asking DNS, so a resolver that answers
 * otherwise cannot turn the name into something else. A single trailing dot (the absolute form) is ignored.
 */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/** URL.hostname keeps the brackets around an IPv6 literal ("[::1]"); address parsers want them gone. */
export function stripBrackets(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}
