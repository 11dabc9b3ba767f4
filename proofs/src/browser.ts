/**
 * The offline browser verifier (proofs/verifier.html): the same checks as `custody-verify proof`,
 * run on files the auditor picks. Nothing leaves the page; its Content-Security-Policy forbids every
 * network request. The few DOM members used are typed here instead of adding the DOM library to the
 * monorepo's compilation, where it would let server code use browser globals unnoticed.
 */
import { decodeBase64 } from "@custody/encoding";
import { allOk, verifyProof, type Check } from "./checks.js";
import { reason } from "./entries.js";
import { formatCheck } from "./format.js";
import { parseKeys } from "./keys.js";

interface PickedFile {
  readonly name: string;
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}
interface Element {
  textContent: string | null;
  className: string;
  replaceChildren(...nodes: Element[]): void;
  append(...nodes: Element[]): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: () => void): void;
}
interface InputElement extends Element {
  value: string;
  disabled: boolean;
  readonly files: { readonly length: number; item(index: number): PickedFile | null } | null;
}
interface Document {
  getElementById(id: string): Element | null;
  createElement(tag: string): Element;
}

const page = (globalThis as unknown as { document: Document }).document;

function byId<T extends Element = Element>(id: string): T {
  const el = page.getElementById(id);
  if (el === null) throw new Error(`verifier.html has no #${id}`);
  return el as T;
}

/** Same bounds as the CLI. */
const MAX_DOCUMENT_BYTES = 64 << 20;
const MAX_PAYLOAD_BYTES = 256 << 20;

async function pick(id: string, what: string, max: number): Promise<Uint8Array> {
  const file = byId<InputElement>(id).files?.item(0) ?? null;
  if (file === null) throw new Error(`choose the ${what} file`);
  if (file.size > max) throw new Error(`the ${what} file is larger than ${max} bytes`);
  return new Uint8Array(await file.arrayBuffer());
}

function receiptKeyOf(text: string): Uint8Array | undefined {
  const v = text.trim();
  if (v === "") return undefined;
  const bytes = /^[0-9a-f]{64}$/i.test(v) ? Uint8Array.from(v.match(/../g)!.map((h) => Number.parseInt(h, 16))) : decodeBase64(v);
  if (bytes === undefined) throw new Error("the receipt key must be base64 (or 64 hex digits) of a 32-byte Ed25519 public key");
  return bytes;
}

function render(checks: readonly Check[]): void {
  const list = byId("checks");
  list.replaceChildren(
    ...checks.map((check) => {
      const li = page.createElement("li");
      li.className = check.ok ? "ok" : "fail";
      li.setAttribute("data-name", check.name);
      li.setAttribute("data-ok", String(check.ok));
      li.textContent = formatCheck(check);
      return li;
    }),
  );
  const ok = allOk(checks);
  const failed = checks.filter((c) => !c.ok).length;
  const result = byId("result");
  result.className = ok ? "ok" : "fail";
  result.setAttribute("data-ok", String(ok));
  result.textContent = ok ? "VALID: every check passed." : `INVALID: ${failed} check${failed === 1 ? "" : "s"} failed.`;
}

function showError(message: string): void {
  byId("checks").replaceChildren();
  const result = byId("result");
  result.className = "fail";
  result.setAttribute("data-ok", "false");
  result.textContent = message;
}

async function verify(): Promise<void> {
  const button = byId<InputElement>("verify");
  button.disabled = true;
  byId("result").textContent = "Verifying…";
  try {
    let keys;
    let receiptKey;
    let secret: string | undefined;
    let document: unknown;
    let payload: Uint8Array;
    try {
      keys = parseKeys(byId<InputElement>("key").value);
      receiptKey = receiptKeyOf(byId<InputElement>("receipt-key").value);
      const s = byId<InputElement>("secret").value.trim();
      secret = s === "" ? undefined : s;
      const proofBytes = await pick("proof", "chain-of-custody document", MAX_DOCUMENT_BYTES);
      payload = await pick("payload", "payload", MAX_PAYLOAD_BYTES);
      try {
        document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(proofBytes));
      } catch (err) {
        render([{ name: "document", ok: false, detail: `not UTF-8 JSON: ${reason(err)}` }]);
        return;
      }
    } catch (err) {
      showError(reason(err));
      return;
    }
    render(verifyProof({ document, payload, key: keys, ...(secret === undefined ? {} : { secret }), ...(receiptKey === undefined ? {} : { receiptKey }) }));
  } catch (err) {
    showError(`internal error: ${reason(err)}`);
  } finally {
    button.disabled = false;
  }
}

byId("verify").addEventListener("click", () => void verify());
byId("result").textContent = "Choose the files and press Verify.";
