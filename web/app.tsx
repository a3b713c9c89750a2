/** @jsxImportSource preact */
// The dashboard page (served at / by api/routes/dashboard.ts): a header with the version and
// health, then the site overview (several EVSEs) or one EVSE in detail (#evse-N, or the only
// one). The token box appears only once the server has answered 401.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, getToken, onAuthNeeded, setToken } from "./client/api.ts";
import { ConnectionBadges } from "./client/connection-badges.tsx";
import { EvsePanel } from "./client/evse-panel.tsx";
import { Overview } from "./client/overview.tsx";

interface EvseInfo {
  index: number;
  evse_id: string | null;
}
interface Health {
  status: string;
  version: string;
  uptime_s: number;
}

function TokenForm({ onSaved }: { onSaved(): void }) {
  const [value, setValue] = useState(getToken());
  return (
    <form
      class="token-form prominent"
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
        Connect
      </button>
    </form>
  );
}

const routeIndex = (): number | null => {
  const m = /^#evse-(\d+)$/.exec(location.hash);
  return m ? Number(m[1]) : null;
};

function App() {
  const [authNeeded, setAuthNeeded] = useState(false);
  const [epoch, setEpoch] = useState(0);
  const [evses, setEvses] = useState<EvseInfo[] | null>(null);
  /** undefined: not asked yet (first paint); null: the last poll failed. */
  const [health, setHealth] = useState<Health | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [route, setRoute] = useState<number | null>(routeIndex());

  useEffect(() => onAuthNeeded(setAuthNeeded), []);
  useEffect(() => {
    const onHash = () => {
      setRoute(routeIndex());
      window.scrollTo(0, 0);
    };
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

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
  const healthTone = health === undefined ? "idle" : health === null ? "bad" : health.status === "ok" ? "ok" : "bad";
  const healthText = health === undefined ? "connecting" : health === null ? "unreachable" : health.status === "ok" ? "healthy" : health.status.replaceAll("_", " ");
  const detail = evses && (evses.length === 1 ? evses[0] : evses.find((e) => e.index === route));

  return (
    <>
      <header class="topbar">
        <a class="brand" href="#">
          <svg viewBox="0 0 24 24" aria-hidden="true" class="logo">
            <path d="M13 2 4 14h6l-1 8 9-12h-6l1-8z" />
          </svg>
          <div>
            <div class="brand-name">evse-manager</div>
            <div class="brand-sub">Charging kernel dashboard{health ? ` · v${health.version}` : ""}</div>
          </div>
        </a>
        <div class="topbar-right">
          {authNeeded ? null : <ConnectionBadges key={epoch} />}
          <span class={`health ${healthTone}`} data-health>
            {healthText}
          </span>
          {!authNeeded && getToken() !== "" ? (
            <button
              type="button"
              class="btn ghost"
              onClick={() => {
                setToken("");
                reconnect();
              }}
            >
              Forget token
            </button>
          ) : null}
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
            <TokenForm onSaved={reconnect} />
          </section>
        ) : loadError ? (
          <p class="card bad-text">Could not load the EVSE list: {loadError}</p>
        ) : evses === null ? (
          <p class="muted">Loading…</p>
        ) : detail ? (
          <EvsePanel
            key={`${epoch}-${detail.index}`}
            index={detail.index}
            evseId={detail.evse_id}
            onBack={evses.length > 1 ? () => (location.hash = "") : undefined}
          />
        ) : (
          <Overview key={epoch} evses={evses} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
