import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatIPv4, matchesPrefix, parseIpBytes } from "./ip-bytes.js";

const hex = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString("hex"));

describe("parseIpBytes", () => {
  it.each([
    ["0.0.0.0", "00000000"],
    ["127.0.0.1", "7f000001"],
    ["255.255.255.255", "ffffffff"],
    ["::", "0".repeat(32)],
    ["::1", "0".repeat(31) + "1"],
    ["1::", "0001" + "0".repeat(28)],
    ["fe80::1%eth0", "fe80" + "0".repeat(27) + "1"],
    ["::ffff:127.0.0.1", "00000000000000000000ffff7f000001"],
    ["::FFFF:7F00:1", "00000000000000000000ffff7f000001"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
    ["::2:3:4:5:6:7:8", "00000002000300040005000600070008"],
    ["1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"],
    ["fd00:ec2::254", "fd000ec2000000000000000000000254"],
  ])("%s", (text, expected) => {
    expect(hex(parseIpBytes(text))).toBe(expected);
  });

  it.each([
    "",
    "localhost",
    "0177.0.0.1", // octal-looking: node's isIP refuses leading zeros
    "127.1",
    "2130706433",
    "1.2.3.256",
    "[::1]",
    "1:2:3:4:5:6:7:8:9",
    "1::2::3",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "fe80::1%",
    " 127.0.0.1",
  ])("refuses %j", (text) => {
    expect(parseIpBytes(text)).toBeUndefined();
  });

  it("refuses non-strings", () => {
    expect(parseIpBytes(2130706433 as unknown as string)).toBeUndefined();
  });

  it("agrees with the WHATWG URL parser on random IPv6 addresses, full and compressed", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (bytes, zeroRun) => {
        if (zeroRun) bytes.fill(0, 4, 10); // make "::" compression likely
        const full = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(":");
        const canonical = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        expect(hex(parseIpBytes(full))).toBe(hex(bytes));
        expect(hex(parseIpBytes(canonical))).toBe(hex(bytes));
      }),
    );
  });

  it("round-trips random IPv4 through formatIPv4", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        expect(hex(parseIpBytes(formatIPv4(bytes)))).toBe(hex(bytes));
      }),
    );
  });
});

describe("matchesPrefix", () => {
  const p = (ip: string): Uint8Array => parseIpBytes(ip)!;
  it("compares whole and partial bytes", () => {
    expect(matchesPrefix(p("172.31.255.255"), p("172.16.0.0"), 12)).toBe(true);
    expect(matchesPrefix(p("172.32.0.0"), p("172.16.0.0"), 12)).toBe(false);
    expect(matchesPrefix(p("172.15.255.255"), p("172.16.0.0"), 12)).toBe(false);
    expect(matchesPrefix(p("1.2.3.4"), p("0.0.0.0"), 0)).toBe(true);
    expect(matchesPrefix(p("1.2.3.4"), p("1.2.3.4"), 32)).toBe(true);
    expect(matchesPrefix(p("1.2.3.5"), p("1.2.3.4"), 32)).toBe(false);
  });
  it("never matches across address lengths", () => {
    expect(matchesPrefix(p("::"), p("0.0.0.0"), 0)).toBe(false);
  });
});
