/** @jsxImportSource preact */
// The site at a glance: one compact card per EVSE (status and reason, power, session energy, the
// limit in force), each a link to that EVSE's detail. The cards read a filtered event stream
// (no telemetry), so a site of many EVSEs stays light.
import { useEffect, useState } from "preact/hooks";
import { figures } from "./figures.ts";
import { amps, dash, energy, kW } from "./format.ts";
import { LimitChips } from "./limit-chips.tsx";
import { OVERVIEW_TYPES, useEvse } from "./use-evse.ts";
import { useStatus } from "./use-status.ts";

export function EvseCard({ index, evseId }: { index: number; evseId: string | null }) {
  const live = useEvse(index, OVERVIEW_TYPES);
  const { summary } = useStatus(index, live.log[0]?.id);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);
  const f = figures(live, now);
  const limit = f.enforced?.amps ?? f.limitA;
  return (
    <a class={`card evse-card ${f.status.tone}`} href={`#evse-${index}`} data-card={index} aria-label={`EVSE ${index}: ${f.status.status}`}>
      <div class="card-head">
        <div>
          <div class="card-title">EVSE {index}</div>
          <div class="mono muted small wrap">{evseId ?? dash}</div>
        </div>
        <span class={`status small-status ${f.status.tone}`} data-status>
          {live.loaded ? f.status.status : "Loading…"}
        </span>
      </div>
      <div class={`reason ${f.status.tone}`} data-reason>
        {live.loaded ? f.status.reason : "\u00a0"}
      </div>
      <dl class="card-figures">
        <div>
          <dt>Power</dt>
          <dd data-figure="power">{kW(f.powerW)}</dd>
        </div>
        <div>
          <dt>Session</dt>
          <dd data-figure="energy">{energy(f.sessionWh)}</dd>
        </div>
        <div>
          <dt>Limit</dt>
          <dd data-figure="limit">{amps(limit)}</dd>
        </div>
      </dl>
      <LimitChips index={index} summary={summary} />
      {live.errors.length > 0 ? (
        <div class="card-errors">
          {live.errors.length} active error{live.errors.length > 1 ? "s" : ""}
        </div>
      ) : null}
    </a>
  );
}

export function Overview({ evses }: { evses: { index: number; evse_id: string | null }[] }) {
  return (
    <section aria-label="Site overview">
      <h2 class="section-title">Site overview · {evses.length} EVSEs</h2>
      <div class="overview">
        {evses.map((e) => (
          <EvseCard key={e.index} index={e.index} evseId={e.evse_id} />
        ))}
      </div>
    </section>
  );
}
