import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEntry, MAX_ENTRY_BYTES } from "./entry.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("entry encoding", () => {
  it("is RFC 8785 canonical JSON: sorted keys, no whitespace, shortest numbers", () => {
    const bytes = encodeEntry({ v: 1, kind: "event", z: 1.0, a: "é", m: [true, null, 1e21] });
    expect(text(bytes)).toBe('{"a":"é","kind":"event","m":[true,null,1e+21],"v":1,"z":1}');
    expect(decodeEntry(bytes)).toEqual({ v: 1, kind: "event", z: 1, a: "é", m: [true, null, 1e21] });
  });

  it("rejects bytes that are valid JSON but not canonical", () => {
    const loose = new TextEncoder().encode('{"v":1, "kind":"event"}');
    expect(() => decodeEntry(loose)).toThrow(/canonical/);
    expect(() => decodeEntry(new TextEncoder().encode('{"kind":"event","v":1,"v":1}'))).toThrow(/canonical/);
  });

  it("rejects unknown kinds and versions, non-objects, bad UTF-8 and oversized entries", () => {
    expect(() => encodeEntry({ v: 1, kind: "nope" as "event" })).toThrow(/kind nope does not exist in version 1/);
    // Each version has its own kinds: format 2 has no per-attempt entries, format 1 no batch entries.
    expect(() => encodeEntry({ v: 2, kind: "event" })).toThrow(/kind event does not exist in version 2/);
    expect(() => encodeEntry({ v: 2, kind: "custody" })).toThrow(/kind custody does not exist in version 2/);
    expect(() => encodeEntry({ v: 1, kind: "seal" })).toThrow(/kind seal does not exist in version 1/);
    expect(() => encodeEntry({ v: 3 as 1, kind: "event" })).toThrow(/version must be the number 1 or 2/);
    // A string that names a version is not one, and no other property name is either.
    expect(() => decodeEntry(new TextEncoder().encode('{"kind":"event","v":"1"}'))).toThrow(/the number 1 or 2, got "1"/);
    expect(() => decodeEntry(new TextEncoder().encode('{"kind":"event","v":"constructor"}'))).toThrow(/the number 1 or 2/);
    expect(() => encodeEntry({ v: 1, kind: "key" as "event" })).toThrow(/kind key does not exist/);
    expect(() => decodeEntry(new TextEncoder().encode("[1]"))).toThrow(/not a JSON object/);
    expect(() => decodeEntry(Uint8Array.of(0x7b, 0xff, 0x7d))).toThrow(/UTF-8/);
    expect(() => encodeEntry({ v: 1, kind: "event", pad: "x".repeat(MAX_ENTRY_BYTES) })).toThrow(/limit/);
    expect(() => decodeEntry(new Uint8Array())).toThrow(/1 to/);
  });
});
