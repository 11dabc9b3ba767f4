import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { expectRedactionError, SALT_0_15_TEXT } from "./expect.fixture.js";
import { redact, redactionHopBytes, REDACTION_HOP_VERSION } from "./index.js";
import type { RemovedField } from "./index.js";

const text = (b: Uint8Array) => new TextDecoder("utf-8", { fatal: true }).decode(b);
const c = (d: string) => d.repeat(64);

describe("redactionHopBytes", () => {
  it("is the RFC 8785 text of {v, payload, removed}, removed sorted by path", () => {
    const removed: RemovedField[] = [
      { path: "/result/taxId", salt: SALT_0_15_TEXT, commitment: c("b") },
      { path: "/email", salt: SALT_0_15_TEXT, commitment: c("a") },
    ];
    const bytes = redactionHopBytes({ z: 1, holders: [null], é: "x" }, removed);
    expect(text(bytes)).toBe(
      '{"payload":{"holders":[null],"z":1,"é":"x"},"removed":[' +
        `{"commitment":"${c("a")}","path":"/email","salt":"${SALT_0_15_TEXT}"},` +
        `{"commitment":"${c("b")}","path":"/result/taxId","salt":"${SALT_0_15_TEXT}"}` +
        '],"v":1}',
    );
    expect(REDACTION_HOP_VERSION).toBe(1);
    // SHA-256 of the expected text computed outside this library (Python hashlib), pinned so a
    // format change shows up here rather than as a silently different custody chain.
    expect(createHash("sha256").update(bytes).digest("hex")).toBe("1c769d20c85594d76bed02b2b9be3e6e4e4fdd3e8a0348e07e3ed892b55ab88d");
  });

  it("nothing removed", () => {
    expect(text(redactionHopBytes("plain", []))).toBe('{"payload":"plain","removed":[],"v":1}');
  });

  it("does not depend on the order of removed, and keeps only the three fields", () => {
    const { payload, removed } = redact({ a: 1, b: 2, c: [3] }, ["/a", "/c/0", "/b"], { shape: "thin" });
    const withExtra = removed.map((r) => ({ ...r, value: "leak" }));
    const ref = text(redactionHopBytes(payload, removed));
    expect(text(redactionHopBytes(payload, [...removed].reverse()))).toBe(ref);
    expect(text(redactionHopBytes(payload, withExtra))).toBe(ref);
    expect(ref).not.toContain("leak");
  });

  it("sorts paths by UTF-16 code units", () => {
    const removed = ["/\uFB33", "/\uD83D\uDE00", "/B", "/a", "/"].map((path) => ({ path, salt: SALT_0_15_TEXT, commitment: c("0") }));
    const order = (JSON.parse(text(redactionHopBytes(null, removed))) as { removed: RemovedField[] }).removed.map((r) => r.path);
    expect(order).toEqual(["/", "/B", "/a", "/\uD83D\uDE00", "/\uFB33"]);
  });

  it("validates every entry and the payload", () => {
    const ok = { path: "/a", salt: SALT_0_15_TEXT, commitment: c("0") };
    expectRedactionError(() => redactionHopBytes({}, [ok, { ...ok }]), "DUPLICATE_PATH");
    expectRedactionError(() => redactionHopBytes({}, [{ ...ok, path: "" }]), "BAD_POINTER");
    expectRedactionError(() => redactionHopBytes({}, [{ ...ok, salt: "x" }]), "BAD_SALT");
    expectRedactionError(() => redactionHopBytes({}, [{ ...ok, commitment: c("g") }]), "BAD_COMMITMENT");
    expectRedactionError(() => redactionHopBytes({}, [{ ...ok, commitment: c("0") + "0" }]), "BAD_COMMITMENT");
    expectRedactionError(() => redactionHopBytes({}, "nope" as never), "BAD_ARGUMENT");
    expectRedactionError(() => redactionHopBytes({}, [7 as never]), "BAD_ARGUMENT");
    expectRedactionError(() => redactionHopBytes({ a: NaN }, []), "NOT_JSON");
  });
});
