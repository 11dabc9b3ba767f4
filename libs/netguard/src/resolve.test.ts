import { describe, expect, it, vi } from "vitest";
import { classifyAddress } from "./classify.js";
import { resolveAndCheck } from "./resolve.js";
import type { Resolver } from "./resolve.js";
import { expectRefused } from "./expect.fixture.js";

const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

/** A resolver answering from a fixed table; unknown names fail like getaddrinfo's ENOTFOUND. */
function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}

describe("resolveAndCheck with an injected resolver", () => {
  it("returns every address of a public name, in resolver order, with family derived from the address", async () => {
    const resolver = fakeResolver({ "hooks.example.com": ["2606:4700:4700::1111", "8.8.8.8"] });
    await expect(resolveAndCheck("hooks.example.com", strict, resolver)).resolves.toEqual([
      { address: "2606:4700:4700::1111", family: 6 },
      { address: "8.8.8.8", family: 4 },
    ]);
  });

  it("refuses a name with one public and one private address", async () => {
    const resolver = fakeResolver({ "mixed.example.com": ["8.8.8.8", "10.0.0.5"] });
    const refused = await expectRefused(() => resolveAndCheck("mixed.example.com", dev, resolver), "ADDRESS_NOT_ALLOWED");
    expect(refused.addressClass).toBe("private");
    expect(refused.address).toBe("10.0.0.5");
    expect(refused.reason).toBe("mixed.example.com: private address 10.0.0.5 is not allowed");
  });

  it("refuses a name pointing at cloud metadata whatever the policy", async () => {
    const resolver = fakeResolver({ "metadata.google.internal": ["169.254.169.254"], "imds.test": ["fd00:ec2::254"] });
    for (const name of ["metadata.google.internal", "imds.test"]) {
      const refused = await expectRefused(() => resolveAndCheck(name, dev, resolver), "ADDRESS_NOT_ALLOWED");
      expect(refused.addressClass).toBe("metadata");
    }
  });

  it("allows a name resolving to loopback only with allowLoopback", async () => {
    const resolver = fakeResolver({ "dev.test": ["127.0.0.1", "::1"] });
    await expect(resolveAndCheck("dev.test", dev, resolver)).resolves.toHaveLength(2);
    await expectRefused(() => resolveAndCheck("dev.test", strict, resolver), "ADDRESS_NOT_ALLOWED");
  });

  it("refuses HOST_NOT_RESOLVABLE on resolver failure, keeping the resolver's error code and cause", async () => {
    const refused = await expectRefused(() => resolveAndCheck("nowhere.test", strict, fakeResolver({})), "HOST_NOT_RESOLVABLE");
    expect(refused.reason).toBe("nowhere.test did not resolve (ENOTFOUND)");
    expect((refused.cause as { code?: string }).code).toBe("ENOTFOUND");
  });

  it("refuses HOST_NOT_RESOLVABLE on an empty answer or empty hostname", async () => {
    await expectRefused(() => resolveAndCheck("empty.test", strict, fakeResolver({ "empty.test": [] })), "HOST_NOT_RESOLVABLE");
    await expectRefused(() => resolveAndCheck("", strict, fakeResolver({})), "HOST_NOT_RESOLVABLE");
  });

  it("fails closed when the resolver returns something that is not an address", async () => {
    const resolver = fakeResolver({ "junk.test": ["8.8.8.8", "not-an-ip"] });
    await expectRefused(() => resolveAndCheck("junk.test", dev, resolver), "ADDRESS_NOT_ALLOWED");
  });

  it("checks IP literals (bracketed or not) without calling the resolver", async () => {
    const resolver = fakeResolver({});
    await expect(resolveAndCheck("8.8.8.8", strict, resolver)).resolves.toEqual([{ address: "8.8.8.8", family: 4 }]);
    await expect(resolveAndCheck("[::1]", dev, resolver)).resolves.toEqual([{ address: "::1", family: 6 }]);
    await expectRefused(() => resolveAndCheck("[::ffff:7f00:1]", strict, resolver), "ADDRESS_NOT_ALLOWED");
    expect(resolver.calls).toEqual([]);
  });

  it("refuses localhost names without asking DNS, unless loopback is allowed", async () => {
    const resolver = fakeResolver({ "app.localhost": ["8.8.8.8"] });
    await expectRefused(() => resolveAndCheck("app.localhost", strict, resolver), "ADDRESS_NOT_ALLOWED");
    expect(resolver.calls).toEqual([]);
    await resolveAndCheck("app.localhost", dev, resolver);
    expect(resolver.calls).toEqual(["app.localhost"]);
  });

  it("snapshots the policy at call time", async () => {
    const policy = { allowLoopback: false };
    const resolver = vi.fn(async () => {
      policy.allowLoopback = true; // a caller flipping the flag mid-flight must not matter
      return [{ address: "127.0.0.1", family: 4 }];
    });
    await expectRefused(() => resolveAndCheck("flip.test", policy, resolver), "ADDRESS_NOT_ALLOWED");
  });
});

describe("resolveAndCheck with the system resolver", () => {
  it("refuses localhost without allowLoopback", async () => {
    const refused = await expectRefused(() => resolveAndCheck("localhost", strict), "ADDRESS_NOT_ALLOWED");
    expect(refused.addressClass).toBe("loopback");
  });

  it("resolves localhost to loopback addresses only, accepted with allowLoopback", async () => {
    const addresses = await resolveAndCheck("localhost", dev);
    expect(addresses.length).toBeGreaterThan(0);
    for (const { address } of addresses) expect(classifyAddress(address)).toBe("loopback");
  });

  it("refuses name.invalid (RFC 6761: never resolves) as HOST_NOT_RESOLVABLE", async () => {
    await expectRefused(() => resolveAndCheck("name.invalid", dev), "HOST_NOT_RESOLVABLE");
  });
});
