import { describe, expect, it } from "vitest";
import { checkAddress } from "./policy.js";
import { expectRefused } from "./expect.fixture.js";

const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

describe("checkAddress", () => {
  it("accepts public addresses under either policy", () => {
    for (const ip of ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
      expect(() => checkAddress(ip, strict)).not.toThrow();
      expect(() => checkAddress(ip, dev)).not.toThrow();
    }
  });

  it("accepts loopback only with allowLoopback", async () => {
    for (const ip of ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"]) {
      expect(() => checkAddress(ip, dev)).not.toThrow();
      const refused = await expectRefused(() => checkAddress(ip, strict), "ADDRESS_NOT_ALLOWED");
      expect(refused.addressClass).toBe("loopback");
      expect(refused.address).toBe(ip);
    }
  });

  it("names the class, the address and any IPv4 embedding in the reason", async () => {
    const refused = await expectRefused(() => checkAddress("::ffff:7f00:1", strict), "ADDRESS_NOT_ALLOWED");
    expect(refused.reason).toBe("loopback address ::ffff:7f00:1 (ipv4-mapped 127.0.0.1) is not allowed");
    const plain = await expectRefused(() => checkAddress("10.0.0.1", strict), "ADDRESS_NOT_ALLOWED");
    expect(plain.reason).toBe("private address 10.0.0.1 is not allowed");
  });

  it("refuses loopback smuggled through NAT64, 6to4 or IPv4-compatible even with allowLoopback", async () => {
    for (const ip of ["64:ff9b::7f00:1", "2002:7f00:1::1", "::127.0.0.1"]) {
      const refused = await expectRefused(() => checkAddress(ip, dev), "ADDRESS_NOT_ALLOWED");
      expect(refused.addressClass).toBe("loopback");
    }
  });

  it.each([
    ["169.254.169.254", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["::ffff:169.254.169.254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["fd12:3456::1", "private"],
    ["100.64.0.1", "cgnat"],
    ["192.0.2.1", "documentation"],
    ["2001:db8::1", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
  ])("refuses %s (%s) whatever the policy", async (ip, addressClass) => {
    for (const policy of [strict, dev]) {
      const refused = await expectRefused(() => checkAddress(ip, policy), "ADDRESS_NOT_ALLOWED");
      expect(refused.addressClass).toBe(addressClass);
      expect(refused.reason).toContain(addressClass);
      expect(refused.reason).toContain(ip);
    }
  });

  it("treats anything but allowLoopback === true as false", async () => {
    const sloppy = { allowLoopback: "true" as unknown as boolean };
    await expectRefused(() => checkAddress("127.0.0.1", sloppy), "ADDRESS_NOT_ALLOWED");
  });

  it("fails closed on text that is not an address", async () => {
    const refused = await expectRefused(() => checkAddress("example.com", dev), "ADDRESS_NOT_ALLOWED");
    expect(refused.addressClass).toBeUndefined();
  });
});
