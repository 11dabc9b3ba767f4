import { describe, expect, it } from "vitest";
import * as netguard from "./index.js";
import { TARGET_REFUSED_CODES, TargetRefusedError, checkAddress, parseTargetUrl, resolveAndCheck } from "./index.js";
import type { TargetRefusedCode } from "./index.js";
import { expectRefused } from "./expect.fixture.js";

const strict = { allowLoopback: false };

describe("@custody/netguard public API", () => {
  it("exports exactly the documented surface", () => {
    expect(Object.keys(netguard).sort()).toEqual(
      ["MAX_TARGET_URL_LENGTH", "TARGET_REFUSED_CODES", "TargetRefusedError", "checkAddress", "classifyAddress", "guardedLookup", "parseTargetUrl", "resolveAndCheck", "systemResolver"].sort(),
    );
  });

  it("TargetRefusedError is an Error carrying code, reason and details", () => {
    const error = new TargetRefusedError("ADDRESS_NOT_ALLOWED", "loopback address 127.0.0.1 is not allowed", {
      address: "127.0.0.1",
      addressClass: "loopback",
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("TargetRefusedError");
    expect(error.message).toBe("ADDRESS_NOT_ALLOWED: loopback address 127.0.0.1 is not allowed");
    expect(error.address).toBe("127.0.0.1");
    expect(error.addressClass).toBe("loopback");
  });

  // One negative test per code, through the public entry points only.
  const oneEach: Record<TargetRefusedCode, () => unknown> = {
    URL_INVALID: () => parseTargetUrl("https://example.com/#fragment", strict),
    URL_TOO_LONG: () => parseTargetUrl(`https://example.com/${"a".repeat(2048)}`, strict),
    SCHEME_NOT_ALLOWED: () => parseTargetUrl("http://example.com/", strict),
    CREDENTIALS_IN_URL: () => parseTargetUrl("https://user:secret@example.com/", strict),
    HOST_NOT_RESOLVABLE: () =>
      resolveAndCheck("gone.test", strict, async () => {
        throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
      }),
    ADDRESS_NOT_ALLOWED: () => checkAddress("169.254.169.254", { allowLoopback: true }),
  };

  it("covers every code", () => {
    expect(Object.keys(oneEach).sort()).toEqual([...TARGET_REFUSED_CODES].sort());
  });

  it.each(TARGET_REFUSED_CODES)("refuses with %s", async (code) => {
    await expectRefused(oneEach[code], code);
  });
});
