import { describe, expect, it } from "vitest";
import { MAX_TARGET_URL_LENGTH, parseTargetUrl } from "./url.js";
import { expectRefused } from "./expect.fixture.js";

const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

describe("parseTargetUrl: accepted", () => {
  it("returns the normalised URL for an https target", () => {
    const url = parseTargetUrl("https://Hooks.Example.com:8443/a/b?x=1", strict);
    expect(url).toBeInstanceOf(URL);
    expect(url.href).toBe("https://hooks.example.com:8443/a/b?x=1");
  });

  it("accepts public IP literals", () => {
    expect(parseTargetUrl("https://8.8.8.8/x", strict).hostname).toBe("8.8.8.8");
    expect(parseTargetUrl("https://[2606:4700:4700::1111]/x", strict).hostname).toBe("[2606:4700:4700::1111]");
  });

  it("accepts exactly the maximum length", () => {
    const prefix = "https://example.com/";
    const raw = prefix + "a".repeat(MAX_TARGET_URL_LENGTH - prefix.length);
    expect(parseTargetUrl(raw, strict).href).toBe(raw);
  });

  it("accepts http: only with allowLoopback", async () => {
    expect(parseTargetUrl("http://127.0.0.1:8080/hook", dev).port).toBe("8080");
    expect(parseTargetUrl("http://example.com/hook", dev).protocol).toBe("http:");
    await expectRefused(() => parseTargetUrl("http://example.com/hook", strict), "SCHEME_NOT_ALLOWED");
  });
});

describe("parseTargetUrl: refused", () => {
  it.each([
    "not a url",
    "/relative/path",
    "example.com/hook",
    "https://",
    "https://exa mple.com/",
    " https://example.com/",
    "https://example.com/\n",
    "https://exa\tmple.com/",
    "https://example.com/#frag",
    "https://example.com/#",
    "https://[fe80::1%25eth0]/",
    "https://example.com:0/",
    "https://1.2.3.4.5/",
  ])("URL_INVALID: %j", async (raw) => {
    await expectRefused(() => parseTargetUrl(raw, dev), "URL_INVALID");
  });

  it("URL_INVALID for non-strings", async () => {
    await expectRefused(() => parseTargetUrl(undefined as unknown as string, dev), "URL_INVALID");
  });

  it("URL_TOO_LONG over 2,048 characters, before and after normalisation", async () => {
    const prefix = "https://example.com/";
    await expectRefused(() => parseTargetUrl(prefix + "a".repeat(MAX_TARGET_URL_LENGTH - prefix.length + 1), strict), "URL_TOO_LONG");
    // 1,100 'é' is within the limit as typed but becomes 6,600 characters once percent-encoded.
    await expectRefused(() => parseTargetUrl(prefix + "é".repeat(1100), strict), "URL_TOO_LONG");
  });

  it.each(["ftp://example.com/", "file:///etc/passwd", "ws://example.com/", "wss://example.com/", "javascript:alert(1)", "data:text/plain,hi", "gopher://example.com/"])("SCHEME_NOT_ALLOWED: %s", async (raw) => {
    await expectRefused(() => parseTargetUrl(raw, dev), "SCHEME_NOT_ALLOWED");
  });

  it.each(["https://alice:s3cr3t@example.com/", "https://alice@example.com/", "https://:s3cr3t@example.com/"])("CREDENTIALS_IN_URL without echoing them: %s", async (raw) => {
    const refused = await expectRefused(() => parseTargetUrl(raw, dev), "CREDENTIALS_IN_URL");
    expect(refused.message).not.toContain("s3cr3t");
    expect(refused.message).not.toContain("alice");
  });
});

describe("parseTargetUrl: IP literals in every form the URL parser normalises", () => {
  const loopbackForms = [
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.0.1./",
    "http://%31%32%37.0.0.1/",
    "http://127。0。0。1/", // ideographic full stops
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost:3000/",
  ];

  it.each(loopbackForms)("refuses %s as loopback without allowLoopback", async (raw) => {
    const https = raw.replace(/^http:/, "https:");
    const refused = await expectRefused(() => parseTargetUrl(https, strict), "ADDRESS_NOT_ALLOWED");
    expect(refused.addressClass).toBe("loopback");
  });

  it.each(loopbackForms)("accepts %s with allowLoopback", (raw) => {
    expect(parseTargetUrl(raw, dev)).toBeInstanceOf(URL);
  });

  it.each([
    ["https://169.254.169.254/latest/meta-data/", "metadata"],
    ["https://2852039166/", "metadata"], // 169.254.169.254 as a decimal
    ["https://[fd00:ec2::254]/", "metadata"],
    ["https://[::ffff:a9fe:a9fe]/", "metadata"],
    ["https://100.100.100.200/", "metadata"],
    ["https://169.254.0.1/", "link-local"],
    ["https://[fe80::1]/", "link-local"],
    ["https://0xa.1/", "private"], // 10.0.0.1
    ["https://192.168.1.1/", "private"],
    ["https://[fc00::1]/", "private"],
    ["https://100.64.0.1/", "cgnat"],
    ["https://0/", "unspecified"],
    ["https://[::]/", "unspecified"],
    ["https://192.0.2.1/", "documentation"],
    ["https://224.0.0.1/", "multicast"],
    ["https://255.255.255.255/", "broadcast"],
  ])("refuses %s (%s) even with allowLoopback", async (raw, addressClass) => {
    const refused = await expectRefused(() => parseTargetUrl(raw, dev), "ADDRESS_NOT_ALLOWED");
    expect(refused.addressClass).toBe(addressClass);
  });

  it("leaves ordinary names for DNS time (no lookup here)", () => {
    expect(parseTargetUrl("https://localhost.example.com/", strict).hostname).toBe("localhost.example.com");
    expect(parseTargetUrl("https://notlocalhost/", strict).hostname).toBe("notlocalhost");
  });
});

describe("parseTargetUrl: refusals do not carry the raw URL", () => {
  it("drops the parser error, whose `input` holds the raw text", async () => {
    const refused = await expectRefused(() => parseTargetUrl("nope?token=s3cr3t", { allowLoopback: false }), "URL_INVALID");
    expect(refused.cause).toBeUndefined();
    expect(JSON.stringify(refused)).not.toContain("s3cr3t");
  });
});
