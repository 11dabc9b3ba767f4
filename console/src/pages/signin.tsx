import { useState } from "preact/hooks";
import { ApiError, get, signIn, signOut } from "../api";
import { ErrorBox, Field, useTitle } from "../ui";

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  useTitle("Sign in");
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const token = key.trim();
    if (!/^ck_(live|test)_/.test(token)) {
      setError(new ApiError(0, "VALIDATION_FAILED", "an API key starts with ck_live_ or ck_test_", "apiKey"));
      setBusy(false);
      return;
    }
    signIn({ kind: "key", token });
    try {
      await get("/api/v2/webhooks", { limit: "1" });
      onSignedIn();
    } catch (err) {
      signOut();
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="narrow">
      <h1>Custody console</h1>
      <form onSubmit={(e) => void submit(e)} class="panel">
        <Field label="API key" hint="Kept in this browser tab only (sessionStorage) and sent to this server alone. `npm start` prints one.">
          <input id="api-key" name="apiKey" type="password" autoComplete="off" spellcheck={false} value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} placeholder="ck_test_…" required />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <ErrorBox error={error} />
      </form>
    </main>
  );
}
