import { isIP } from "node:net";

/**
 * IP text → network-order bytes (4 for IPv4, 16 for IPv6), or undefined if it is not an IP address.
 * node:net's isIP is the gatekeeper, so only the strict forms reach the byte parser: dotted-quad
 * without leading zeros, and RFC 4291 IPv6 text (optionally with a zone index). The parser still
 * checks every piece itself so that it never trusts a shape it did not verify.
 */
export function parseIpBytes(ip: string): Uint8Array | undefined {
  if (typeof ip !== "string") return undefined;
  const version = isIP(ip);
  if (version === 4) return parseIPv4(ip);
  if (version === 6) return parseIPv6(ip);
  return undefined;
}

function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (part === undefined || !/^[0-9]{1,3}$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

function parseIPv6(text: string): Uint8Array | undefined {
  // A zone index ("fe80::1%eth0") selects an interface; it is not part of the address.
  const percent = text.indexOf("%");
  const address = percent === -1 ? text : text.slice(0, percent);

  const gap = address.indexOf("::");
  if (gap !== -1 && address.indexOf("::", gap + 1) !== -1) return undefined;
  const head = gap === -1 ? pieces(address) : pieces(address.slice(0, gap));
  const tail = gap === -1 ? [] : pieces(address.slice(gap + 2));
  if (head === undefined || tail === undefined) return undefined;

  // A dotted quad may only close the address, never sit before "::".
  const headGroups = groups(head, gap === -1);
  const tailGroups = groups(tail, true);
  if (headGroups === undefined || tailGroups === undefined) return undefined;

  const total = headGroups.length + tailGroups.length;
  // "::" stands for at least one zero group; without it all eight must be written.
  if (gap === -1 ? total !== 8 : total > 7) return undefined;

  const all = [...headGroups, ...Array<number>(8 - total).fill(0), ...tailGroups];
  const out = new Uint8Array(16);
  all.forEach((group, i) => {
    out[i * 2] = group >> 8;
    out[i * 2 + 1] = group & 0xff;
  });
  return out;
}

function pieces(text: string): string[] | undefined {
  if (text === "") return [];
  const parts = text.split(":");
  return parts.includes("") ? undefined : parts;
}

/** Hex groups → 16-bit numbers; a trailing dotted quad (only where `quadAllowedLast`) becomes two groups. */
function groups(parts: string[], quadAllowedLast: boolean): number[] | undefined {
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    if (part.includes(".")) {
      if (!quadAllowedLast || i !== parts.length - 1) return undefined;
      const quad = parseIPv4(part);
      if (quad === undefined) return undefined;
      out.push(((quad[0] ?? 0) << 8) | (quad[1] ?? 0), ((quad[2] ?? 0) << 8) | (quad[3] ?? 0));
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      out.push(Number.parseInt(part, 16));
    }
  }
  return out;
}

/** Dotted-quad text of the four bytes at `offset`, used to name an IPv4 address embedded in IPv6. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return Array.from(bytes.subarray(offset, offset + 4)).join(".");
}

/** True when the first `bits` bits of `address` equal those of `prefix` (same length assumed). */
export function matchesPrefix(address: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  if (address.length !== prefix.length) return false;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== prefix[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[whole] ?? 0) & mask) === ((prefix[whole] ?? 0) & mask);
}
