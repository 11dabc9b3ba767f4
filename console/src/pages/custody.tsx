import { useState } from "preact/hooks";
import { call, get, type DeliveryDetail } from "../api";
import { href } from "../router";
import { download, ErrorBox, Field, Loading, Section, useAsync, useTitle } from "../ui";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface Evidence {
  delivery: DeliveryDetail;
  documentText: string;
  body: Uint8Array;
  keysText: string;
}

/**
 * A delivery's chain-of-custody document, verified in this page by the standalone verifier's own code
 * (proofs/src, the same modules proofs/verifier.html runs), against the body the delivery sends and
 * the platform's public keys.
 */
async function verify(evidence: Pick<Evidence, "body" | "keysText">, documentText: string, secret: string): Promise<Check[]> {
  const v = await import("@custody/verifier");
  let document: unknown;
  try {
    document = JSON.parse(documentText);
  } catch (err) {
    return [{ name: "document", ok: false, detail: `not JSON: ${(err as Error).message}` }];
  }
  let key;
  try {
    key = v.parseKeys(evidence.keysText);
  } catch (err) {
    return [{ name: "keys", ok: false, detail: (err as Error).message }];
  }
  return v.verifyProof({ document, payload: evidence.body, key, ...(secret.trim() === "" ? {} : { secret: secret.trim() }) });
}

export function CustodyPage({ endpointId, deliveryId }: { endpointId: string; deliveryId: string }) {
  useTitle(`Chain of custody ${deliveryId}`);
  const ep = encodeURIComponent(endpointId);
  const evidence = useAsync(
    async (signal): Promise<Evidence> => {
      const delivery = await get<DeliveryDetail>(`/api/v2/webhooks/${ep}/deliveries/${encodeURIComponent(deliveryId)}`, undefined, signal);
      const [documentBytes, body, keys] = await Promise.all([
        call<Uint8Array>("GET", `/api/v2/webhooks/events/${encodeURIComponent(delivery.eventId)}/chain-of-custody`, { query: { endpointId }, raw: true, signal }),
        call<Uint8Array>("GET", `/api/v2/webhooks/${ep}/deliveries/${encodeURIComponent(deliveryId)}/body`, { raw: true, signal }),
        call<Uint8Array>("GET", "/api/v2/proofs/keys", { raw: true, signal }),
      ]);
      const text = new TextDecoder();
      return { delivery, documentText: text.decode(documentBytes), body, keysText: text.decode(keys) };
    },
    [endpointId, deliveryId],
  );
  const [secret, setSecret] = useState("");
  const [result, setResult] = useState<{ source: string; checks: Check[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (source: string, documentText: string) => {
    if (evidence.data === undefined) return;
    setBusy(true);
    setError(null);
    try {
      setResult({ source, checks: await verify(evidence.data, documentText, secret) });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const pickFile = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.item(0);
    if (!file) return;
    if (file.size > 64 << 20) {
      setError(new Error("the document is larger than 64 MiB"));
      return;
    }
    await run(`the file ${file.name}`, await file.text());
  };

  const checks = result?.checks ?? [];
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  const pendingIndex = evidence.data !== undefined && /"leafIndex":\s*null/.test(evidence.data.documentText);
  return (
    <div>
      <p class="crumbs">
        <a href={href("/deliveries")}>Deliveries</a> › <a href={href(`/deliveries/${endpointId}/${deliveryId}`)}>{deliveryId}</a>
      </p>
      <h1>Chain of custody</h1>
      <p class="muted">
        The document proves what Custody did with this delivery: the event in its ledger, the redaction, every attempt sealed before it was sent and its outcome, all under a signed checkpoint. It is checked here, in your
        browser, by the same code as the offline verifier (<code>custody-verify</code>), against the body this delivery sends and the platform's public keys.
      </p>
      <ErrorBox error={evidence.error} onRetry={evidence.reload} />
      {evidence.data === undefined && !evidence.error ? <Loading what="the document" /> : null}
      {evidence.data !== undefined ? (
        <>
          <Section title="Verify" id="verify">
            <Field label="Endpoint signing secret (optional)" hint="Adds the HMAC check of the body's signatures. Used in this page only.">
              <input type="password" name="secret" autoComplete="off" value={secret} onInput={(e) => setSecret((e.target as HTMLInputElement).value)} placeholder="whsec_…" />
            </Field>
            <div class="actions">
              <button type="button" class="primary" disabled={busy} onClick={() => void run("the document from the API", evidence.data!.documentText)} data-testid="verify">
                Verify in this page
              </button>
              <button type="button" onClick={() => download(`chain-of-custody-${evidence.data!.delivery.eventId}.json`, evidence.data!.documentText)} data-testid="download-document">
                Download document
              </button>
              <button type="button" onClick={() => download(`${deliveryId}.body.json`, evidence.data!.body)}>
                Download body
              </button>
              <button type="button" class="link" onClick={evidence.reload}>
                Fetch the document again
              </button>
            </div>
            <Field label="Verify a document file instead" hint="e.g. one you downloaded earlier or were sent: checked against this delivery's body and the platform keys.">
              <input type="file" accept="application/json,.json" name="documentFile" onChange={(e) => void pickFile(e)} data-testid="document-file" />
            </Field>
            {pendingIndex ? (
              <p class="notice" role="status">
                Part of this document is not yet covered by a signed checkpoint (<code>leafIndex: null</code>): its checks fail until then. Fetch the document again in a moment.
              </p>
            ) : null}
            <ErrorBox error={error} />
          </Section>
          {result !== null ? (
            <Section title="Result" id="result">
              <p class={`verdict ${ok ? "ok" : "fail"}`} data-testid="verdict" data-ok={String(ok)} role="status">
                {ok ? "✓ VALID: every check passed" : `✗ INVALID: ${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed`} — {result.source}.
              </p>
              <ul class="checks" data-testid="checks">
                {checks.map((c, i) => (
                  <li key={i} class={c.ok ? "ok" : "fail"} data-name={c.name} data-ok={String(c.ok)}>
                    <span aria-hidden="true">{c.ok ? "✓" : "✗"}</span> <strong>{c.name}</strong> <span class="sr-only">{c.ok ? "passed" : "failed"}</span> — {c.detail}
                  </li>
                ))}
              </ul>
            </Section>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
