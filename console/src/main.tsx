import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, credential, get, PORTAL, signIn, signOut, type PortalSession } from "./api";
import { DeliveriesPage } from "./pages/deliveries";
import { DeliveryPage } from "./pages/delivery";
import { EndpointPage, EndpointsPage, NewEndpointPage } from "./pages/endpoints";
import { EventPage, EventsPage } from "./pages/events";
import { CustodyPage } from "./pages/custody";
import { StatsPage } from "./pages/stats";
import { SignIn } from "./pages/signin";
import { href, useRoute } from "./router";
import { ErrorBox, Loading } from "./ui";
import { Session, type SessionInfo } from "./session";

/** The operator console (`/console`) and the endpoint-owner portal (`/console/portal`): one page, two modes. */

// A portal link carries its token in the fragment: keep it for this tab only, then drop it from the address bar.
const linkToken = /[#&]token=(cpt_[A-Za-z0-9_-]+)/.exec(location.hash)?.[1];
if (PORTAL && linkToken !== undefined) {
  signIn({ kind: "portal", token: linkToken });
  history.replaceState(null, "", `${location.pathname}#/deliveries`);
}

const THEME_VARS: Record<string, string> = {
  accent: "--accent",
  accentText: "--accent-text",
  background: "--bg",
  surface: "--surface",
  text: "--text",
  muted: "--muted",
  border: "--border",
  radius: "--radius",
  font: "--font",
};

function applyTheme(theme: Record<string, string>): void {
  for (const [name, value] of Object.entries(theme)) {
    const v = THEME_VARS[name];
    if (v !== undefined) document.documentElement.style.setProperty(v, value);
  }
}

function Nav({ info }: { info: SessionInfo }) {
  const route = useRoute();
  const here = route.parts[0] ?? "deliveries";
  const items: Array<[string, string]> = info.portal
    ? [
        ["deliveries", "Deliveries"],
        ["endpoints", "Endpoints"],
      ]
    : [
        ["deliveries", "Deliveries"],
        ["endpoints", "Endpoints"],
        ["events", "Events"],
        ["stats", "Stats"],
      ];
  return (
    <nav aria-label="Main">
      <ul>
        {items.map(([path, label]) => (
          <li key={path}>
            <a href={href(`/${path}`)} aria-current={here === path ? "page" : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Pages({ info }: { info: SessionInfo }) {
  const { parts } = useRoute();
  const [page, a, b] = parts;
  switch (page) {
    case undefined:
    case "deliveries":
      return a !== undefined && b !== undefined ? <DeliveryPage endpointId={a} deliveryId={b} /> : <DeliveriesPage />;
    case "custody":
      return a !== undefined && b !== undefined ? <CustodyPage endpointId={a} deliveryId={b} /> : <NotFound />;
    case "endpoints":
      if (a === "new" && !info.portal) return <NewEndpointPage />;
      return a !== undefined ? <EndpointPage id={a} /> : <EndpointsPage />;
    case "events":
      if (info.portal) return <NotFound />;
      return a !== undefined ? <EventPage id={a} /> : <EventsPage />;
    case "stats":
      return info.portal ? <NotFound /> : <StatsPage />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  return (
    <div>
      <h1>Not found</h1>
      <p>
        There is no such page. Go to <a href={href("/deliveries")}>Deliveries</a>.
      </p>
    </div>
  );
}

function App() {
  const [cred, setCred] = useState(credential);
  const [info, setInfo] = useState<SessionInfo | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (cred === null) return;
    if (!cred || cred.kind === "key") {
      setInfo({ portal: null });
      return;
    }
    get<PortalSession>("/api/v2/portal-session").then(
      (s) => {
        applyTheme(s.theme);
        setInfo({ portal: s });
      },
      (err: unknown) => setError(err),
    );
  }, [cred]);

  const out = () => {
    signOut();
    setCred(null);
    setInfo(null);
    setError(null);
  };

  if (cred === null) {
    if (PORTAL) {
      return (
        <main id="main" class="narrow">
          <h1>Endpoint portal</h1>
          <div class="error" role="alert" data-code="UNAUTHENTICATED">
            <strong>
              <code>UNAUTHENTICATED</code>
            </strong>{" "}
            This page needs a portal link. Ask the team that sends you webhooks for a new link.
          </div>
        </main>
      );
    }
    return <SignIn onSignedIn={() => setCred(credential())} />;
  }
  if (error !== null) {
    return (
      <main id="main" class="narrow">
        <h1>{PORTAL ? "Endpoint portal" : "Custody console"}</h1>
        <ErrorBox error={error} />
        <button type="button" onClick={out}>
          Sign out
        </button>
      </main>
    );
  }
  if (info === null) return <Loading what="your session" />;
  return (
    <Session.Provider value={info}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">{info.portal ? "Webhook portal" : "Custody"}</span>
        <Nav info={info} />
        <span class="who">
          {info.portal ? <span class="muted">Link valid until {new Date(info.portal.expiresAt).toLocaleString()}</span> : null}
          <button type="button" class="link" onClick={out}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Pages info={info} />
      </main>
    </Session.Provider>
  );
}

addEventListener("unhandledrejection", (e) => {
  // Nothing fails silently: an error no page caught is shown at the top of the page.
  const box = document.getElementById("fatal");
  if (box !== null) {
    const err = e.reason instanceof ApiError ? `${e.reason.code}: ${e.reason.message}` : String(e.reason);
    box.textContent = `Unexpected error — ${err}`;
    box.hidden = false;
  }
});

const root = document.getElementById("app")!;
root.replaceChildren();
render(<App />, root);
