import { BlockList } from "node:net";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { classifyAddress, describeAddress } from "./classify.js";
import type { AddressClass } from "./classify.js";
import { TargetRefusedError } from "./errors.js";

describe("classifyAddress: IPv4", () => {
  it.each<[string, AddressClass]>([
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["0.0.0.0", "unspecified"],
    ["0.255.255.255", "unspecified"],
    ["1.0.0.0", "public"],
    ["9.255.255.255", "public"],
    ["10.0.0.0", "private"],
    ["10.255.255.255", "private"],
    ["11.0.0.0", "public"],
    ["172.15.255.255", "public"],
    ["172.16.0.0", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", "public"],
    ["192.167.255.255", "public"],
    ["192.168.0.1", "private"],
    ["192.168.255.255", "private"],
    ["192.169.0.0", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["126.255.255.255", "public"],
    ["128.0.0.0", "public"],
    ["169.254.0.1", "link-local"],
    ["169.254.169.254", "metadata"],
    ["169.254.169.253", "link-local"],
    ["169.254.170.2", "metadata"],
    ["169.253.255.255", "public"],
    ["169.255.0.0", "public"],
    ["100.63.255.255", "public"],
    ["100.64.0.0", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["100.128.0.0", "public"],
    ["100.100.100.200", "metadata"],
    ["192.0.0.1", "reserved"],
    ["192.0.0.192", "metadata"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.7", "documentation"],
    ["203.0.113.255", "documentation"],
    ["192.0.3.0", "public"],
    ["198.17.255.255", "public"],
    ["198.18.0.0", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["198.20.0.0", "public"],
    ["192.88.99.1", "reserved"],
    ["223.255.255.255", "public"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["240.0.0.0", "reserved"],
    ["255.255.255.254", "reserved"],
    ["255.255.255.255", "broadcast"],
  ])("%s is %s", (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });
});

describe("classifyAddress: IPv6", () => {
  it.each<[string, AddressClass]>([
    ["2606:4700:4700::1111", "public"],
    ["2a00:1450:4001:81b::200e", "public"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["fec0::1", "private"],
    ["fc00::1", "private"],
    ["fdff:ffff::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["fd00:ec2::253", "private"],
    ["fd20:ce::254", "metadata"],
    ["ff02::1", "multicast"],
    ["ff0e::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["2001:db8:ffff::1", "documentation"],
    ["3fff::1", "documentation"],
    ["2001:2::1", "benchmarking"],
    ["2001::1", "reserved"], // Teredo
    ["2001:1ff::1", "reserved"],
    ["2001:200::1", "public"],
    ["100::1", "reserved"], // discard-only
    ["64:ff9b:1::1", "reserved"], // local-use NAT64
    ["4000::1", "reserved"], // outside 2000::/3
    ["1fff:ffff::1", "reserved"],
    ["3fff:1000::1", "public"],
  ])("%s is %s", (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it.each<[string, AddressClass, string, string]>([
    ["::ffff:127.0.0.1", "loopback", "ipv4-mapped", "127.0.0.1"],
    ["::ffff:7f00:1", "loopback", "ipv4-mapped", "127.0.0.1"],
    ["::FFFF:7F00:0001", "loopback", "ipv4-mapped", "127.0.0.1"],
    ["::ffff:169.254.169.254", "metadata", "ipv4-mapped", "169.254.169.254"],
    ["::ffff:a9fe:a9fe", "metadata", "ipv4-mapped", "169.254.169.254"],
    ["::ffff:10.1.2.3", "private", "ipv4-mapped", "10.1.2.3"],
    ["::ffff:0.0.0.0", "unspecified", "ipv4-mapped", "0.0.0.0"],
    ["::ffff:8.8.8.8", "public", "ipv4-mapped", "8.8.8.8"],
    ["::127.0.0.1", "loopback", "ipv4-compatible", "127.0.0.1"],
    ["::7f00:1", "loopback", "ipv4-compatible", "127.0.0.1"],
    ["::0.0.0.2", "unspecified", "ipv4-compatible", "0.0.0.2"],
    ["64:ff9b::7f00:1", "loopback", "nat64", "127.0.0.1"],
    ["64:ff9b::169.254.169.254", "metadata", "nat64", "169.254.169.254"],
    ["64:ff9b::8.8.8.8", "public", "nat64", "8.8.8.8"],
    ["2002:7f00:1::", "loopback", "6to4", "127.0.0.1"],
    ["2002:c0a8:101::1", "private", "6to4", "192.168.1.1"],
    ["2002:808:808::1", "public", "6to4", "8.8.8.8"],
  ])("%s is %s via %s %s", (ip, expected, via, ipv4) => {
    expect(describeAddress(ip)).toEqual({ addressClass: expected, embedded: { via, ipv4 } });
  });
});

describe("classifyAddress: not an address", () => {
  it.each(["", "localhost", "127.1", "0x7f000001", "[::1]", "1.2.3.4.5", "::ffff:1.2.3", "fe80::1%"])("%j fails closed", (text) => {
    let thrown: unknown;
    try {
      classifyAddress(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TargetRefusedError);
    expect((thrown as TargetRefusedError).code).toBe("ADDRESS_NOT_ALLOWED");
    expect((thrown as TargetRefusedError).reason).toMatch(/^invalid address/);
  });
});

const octet = fc.integer({ min: 0, max: 255 });
const ipv4In = (first: number, second?: number): fc.Arbitrary<string> => fc.tuple(second === undefined ? octet : fc.constant(second), octet, octet).map(([b, c, d]) => `${first}.${b}.${c}.${d}`);
const anyIPv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));

describe("classifyAddress: properties", () => {
  it("never calls 10/8, 127/8 or 169.254/16 public", () => {
    fc.assert(
      fc.property(fc.oneof(ipv4In(10), ipv4In(127), ipv4In(169, 254)), (ip) => {
        expect(classifyAddress(ip)).not.toBe("public");
      }),
      { numRuns: 1000 },
    );
  });

  it("classifies ::ffff:a.b.c.d (both spellings) exactly as a.b.c.d", () => {
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), ([a, b, c, d]) => {
        const ipv4 = `${a}.${b}.${c}.${d}`;
        const hexForm = `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        expect(classifyAddress(`::ffff:${ipv4}`)).toBe(classifyAddress(ipv4));
        expect(classifyAddress(hexForm)).toBe(classifyAddress(ipv4));
      }),
      { numRuns: 1000 },
    );
  });

  // An independent statement of the IPv4 table, matched by node's BlockList instead of our prefix
  // code; most specific entries first.
  const IPV4_REFERENCE: [string, number, AddressClass][] = [
    ["169.254.169.254", 32, "metadata"],
    ["169.254.170.2", 32, "metadata"],
    ["100.100.100.200", 32, "metadata"],
    ["192.0.0.192", 32, "metadata"],
    ["255.255.255.255", 32, "broadcast"],
    ["0.0.0.0", 8, "unspecified"],
    ["10.0.0.0", 8, "private"],
    ["172.16.0.0", 12, "private"],
    ["192.168.0.0", 16, "private"],
    ["127.0.0.0", 8, "loopback"],
    ["169.254.0.0", 16, "link-local"],
    ["100.64.0.0", 10, "cgnat"],
    ["192.0.0.0", 24, "reserved"],
    ["192.0.2.0", 24, "documentation"],
    ["198.51.100.0", 24, "documentation"],
    ["203.0.113.0", 24, "documentation"],
    ["198.18.0.0", 15, "benchmarking"],
    ["192.88.99.0", 24, "reserved"],
    ["224.0.0.0", 4, "multicast"],
    ["240.0.0.0", 4, "reserved"],
  ];
  const reference = IPV4_REFERENCE.map(([base, bits, cls]) => {
    const list = new BlockList();
    list.addSubnet(base, bits, "ipv4");
    return { base, bits, cls, list };
  });
  const expectedIPv4 = (ip: string): AddressClass => reference.find((r) => r.list.check(ip, "ipv4"))?.cls ?? "public";

  // Random addresses inside a random reference range (uniform addresses almost never hit a /24).
  const nearRange = fc.tuple(fc.constantFrom(...IPV4_REFERENCE), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -1, max: 1 })).map(([[base, bits], noise, step]) => {
    const baseNum = base.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const hostBits = 32 - bits;
    const inside = baseNum + (hostBits === 32 ? noise : noise % 2 ** hostBits);
    // step nudges one past either edge of the range now and then
    const edge = step === 0 ? inside : step < 0 ? baseNum - 1 : baseNum + 2 ** hostBits;
    const n = (((edge % 2 ** 32) + 2 ** 32) % 2 ** 32) >>> 0;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
  });

  it("agrees with an independent BlockList-based table for IPv4", () => {
    fc.assert(
      fc.property(fc.oneof(nearRange, anyIPv4), (ip) => {
        expect(classifyAddress(ip)).toBe(expectedIPv4(ip));
      }),
      { numRuns: 3000 },
    );
  });

  it("classifies random IPv6 text without throwing, and never calls non-2000::/3 public unless it embeds public IPv4", () => {
    const globalUnicast = new BlockList();
    globalUnicast.addSubnet("2000::", 3, "ipv6");
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const description = describeAddress(ip);
        if (description.addressClass === "public" && description.embedded === undefined) {
          expect(globalUnicast.check(ip, "ipv6")).toBe(true);
        }
        if (description.embedded !== undefined) {
          expect(description.addressClass).toBe(classifyAddress(description.embedded.ipv4));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
