/** @jsxImportSource preact */
// The dashboard page (served at / by api/routes/dashboard.ts): a header with the version, health
// and API token, then one panel per EVSE. When the server wants a token and has none (or a
// wrong one), the page asks for it before showing anything else.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, getToken, onAuthNeeded, setToken } from "./client/api.ts";
import { EvsePanel } from "./client/evse-panel.tsx";

interface EvseInfo {
  index: number;
  evse_id: string | null;
}
interface Ocpp {
  configured: boolean;
  connected: boolean;
  registration: string | null;
  queued_transaction_messages: number;
  last_error: string | null;
}
interface OcppConnector {
  connector_id: number;
  status: string;
  error_code: string;
}

/** The CSMS connection and each connector's OCPP status; nothing when OCPP is not configured. */
function OcppBadge({ epoch }: { epoch: number }) {
  const [state, setState] = useState<{ ocpp: Ocpp; connectors: OcppConnector[] } | null>(null);
  useEffect(() => {
    let stopped = false;
    const poll = () =>
      Promise.all([api<Ocpp>("/api/v1/ocpp"), api<OcppConnector[]>("/api/v1/ocpp/connectors")])
        .then(([ocpp, connectors]) => !stopped && setState({ ocpp, connectors }))
        .catch(() => !stopped && setState(null));
    void poll();
    const timer = setInterval(poll, 3000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [epoch]);
  if (!state?.ocpp.configured) return null;
  const { ocpp, connectors } = state;
  const tone = ocpp.connected && ocpp.registration === "Accepted" ? "ok" : ocpp.connected ? "warn" : "bad";
  const text = ocpp.connected ? `OCPP ${ocpp.registration ?? "connecting"}` : "OCPP offline";
  const title = [ocpp.last_error, `${ocpp.queued_transaction_messages} queued`, ...connectors.map((c) => `connector ${c.connector_id}: ${c.status}${c.error_code !== "NoError" ? ` (${c.error_code})` : ""}`)].filter(Boolean).join("\n");
  return (
    <span class={`health ${tone}`} data-ocpp title={title}>
      {text}
      {connectors
        .filter((c) => c.connector_id > 0)
        .map((c) => ` · ${c.connector_id}: ${c.status}`)
        .join("")}
    </span>
  );
}

interface Health {
  status: string;
  version: string;
  uptime_s: number;
}

function TokenForm({ prominent, onSaved }: { prominent: boolean; onSaved(): void }) {
  const [value, setValue] = useState(getToken());
  return (
    <form
      class={prominent ? "token-form prominent" : "token-form"}
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value.trim());
        onSaved();
      }}
    >
      <label>
        <span>API token</span>
        <input name="api-token" type="password" autoComplete="off" placeholder="Bearer token" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <button type="submit" class="btn primary">
        {prominent ? "Connect" : "Save"}
      </button>
    </form>
  );
}

function App() {
  const [authNeeded, setAuthNeeded] = useState(false);
  const [epoch, setEpoch] = useState(0);
  const [evses, setEvses] = useState<EvseInfo[] | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => onAuthNeeded(setAuthNeeded), []);

  useEffect(() => {
    let stopped = false;
    const poll = () =>
      fetch("/healthz", { cache: "no-store" })
        .then((r) => r.json() as Promise<Health>)
        .then((h) => !stopped && setHealth(h))
        .catch(() => !stopped && setHealth(null));
    void poll();
    const timer = setInterval(poll, 5000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  useEffect(() => {
    setEvses(null);
    api<EvseInfo[]>("/api/v1/evses")
      .then((list) => {
        setEvses(list);
        setLoadError(null);
      })
      .catch((err: Error) => setLoadError(err.message));
  }, [epoch]);

  const reconnect = () => setEpoch((e) => e + 1);
  const healthTone = health === null ? "bad" : health.status === "ok" ? "ok" : "bad";

  return (
    <>
      <header class="topbar">
        <div class="brand">
          <svg viewBox="0 0 24 24" aria-hidden="true" class="logo">
            <path d="M13 2 4 14h6l-1 8 9-12h-6l1-8z" />
          </svg>
          <div>
            <div class="brand-name">evse-manager</div>
            <div class="brand-sub">Charging kernel dashboard{health ? ` · v${health.version}` : ""}</div>
          </div>
        </div>
        <div class="topbar-right">
          {authNeeded ? null : <OcppBadge epoch={epoch} />}
          <span class={`health ${healthTone}`} data-health>
            {health === null ? "unreachable" : health.status === "ok" ? "healthy" : health.status.replaceAll("_", " ")}
          </span>
          {authNeeded ? null : <TokenForm prominent={false} onSaved={reconnect} />}
        </div>
      </header>
      <main>
        {authNeeded ? (
          <section class="card auth" aria-label="Authentication">
            <h2>This charger requires an API token</h2>
            <p class="muted">
              Enter the token configured as <code>api.token</code> or <code>EVSE_API_TOKEN</code>. It is kept in this tab only (sessionStorage) and
              sent as <code>Authorization: Bearer</code>.
            </p>
            {getToken() !== "" ? <p class="bad-text">The server refused the token this tab holds; enter the current one.</p> : null}
            <TokenForm prominent onSaved={reconnect} />
          </section>
        ) : loadError ? (
          <p class="card bad-text">Could not load the EVSE list: {loadError}</p>
        ) : evses === null ? (
          <p class="muted">Loading…</p>
        ) : (
          evses.map((e) => <EvsePanel key={`${epoch}-${e.index}`} index={e.index} evseId={e.evse_id} />)
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
