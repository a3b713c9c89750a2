// Counters for GET /metrics (Prometheus text format 0.0.4). Fed by the request middleware, the
// publication logs (sessions, energy) and the board inputs (relay switches); the real-time
// worker's own counters (reports, reaction latency, trips) are read from shared memory at render.
// Metric table: docs/metrics.md.
import type { KernelStatus } from "../core/kernel-api.ts";
import type { BoardInput } from "../core/ports.ts";
import { REACT_BUCKETS_US } from "../rt-worker/shm-layout.ts";
import type { Publication } from "./publications.ts";

/** What the worker counts (Shm.counters()); boards without a worker have none. */
export interface WorkerCounters {
  rx: number;
  rejected: number;
  tx: number;
  trips: number;
  eventsDropped: number;
  reaction: { count: number; sumUs: number; maxUs: number; lastUs: number; bucketsUs: number[] };
}

/** The EVSEs /metrics reads worker counters from (EvseRuntime fits). */
export interface MetricsSource {
  index: number;
  board: object;
  /** Local control and site share gauges (integration.md §2, §6); absent: none. */
  kernel?: { status(): Pick<KernelStatus, "failsafe" | "local_limit_A" | "site_share_A"> };
  /** The EVSE's publication log: its open event streams are a gauge. */
  publications?: { readonly subscriberCount: number };
}

function workerCounters(board: object): WorkerCounters | null {
  const counters = (board as { counters?: () => WorkerCounters }).counters;
  return typeof counters === "function" ? counters.call(board) : null;
}

/** What the MQTT bridge counts (mqtt/bridge.ts MqttStats); read at render. */
export interface MqttMetrics {
  connected: boolean;
  received: number;
  sent: number;
  dropped: Record<string, number>;
  queued: number;
}

/** A report rate needs two samples at least this far apart (ms) to be worth a number. */
const RATE_MIN_WINDOW_MS = 1000;

const LATENCY_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

interface Histogram {
  buckets: number[];
  count: number;
  sum: number;
}

interface EvseCounters {
  sessions_started: number;
  sessions_finished: number;
  transactions_started: number;
  energy_Wh: number;
  relay_switches: number;
  board_inputs: number;
  txStartWh: number | null;
}

const labels = (pairs: Record<string, string | number>): string =>
  Object.keys(pairs).length === 0 ? "" : "{" + Object.entries(pairs).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`))}"`).join(",") + "}";

function importWh(value: unknown): number | null {
  const total = (value as { meter_value?: { energy_Wh_import?: { total?: unknown } } } | undefined)?.meter_value?.energy_Wh_import?.total;
  return typeof total === "number" && Number.isFinite(total) ? total : null;
}

export class Metrics {
  private readonly requests = new Map<string, { method: string; route: string; status: number; count: number }>();
  private readonly latency = new Map<string, Histogram>();
  private readonly evses = new Map<number, EvseCounters>();
  /** Per EVSE: the report count and time of the sample the rate gauge is measured from. */
  private readonly rateFrom = new Map<number, { at: number; rx: number; rate: number }>();

  private mqttSource: (() => MqttMetrics) | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The MQTT bridge's counters; without a bridge the mqtt families read 0. */
  mqtt(source: () => MqttMetrics): void {
    this.mqttSource = source;
  }

  request(method: string, route: string, status: number, seconds: number): void {
    // Counted on every request: no closure and no Map write once the series exists.
    const key = `${method} ${route} ${status}`;
    const entry = this.requests.get(key);
    if (entry) entry.count++;
    else this.requests.set(key, { method, route, status, count: 1 });
    let h = this.latency.get(route);
    if (!h) this.latency.set(route, (h = { buckets: LATENCY_BUCKETS_S.map(() => 0), count: 0, sum: 0 }));
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (seconds <= LATENCY_BUCKETS_S[i]!) h.buckets[i]!++;
    h.count++;
    h.sum += seconds;
  }

  private evse(index: number): EvseCounters {
    let e = this.evses.get(index);
    if (!e) {
      e = { sessions_started: 0, sessions_finished: 0, transactions_started: 0, energy_Wh: 0, relay_switches: 0, board_inputs: 0, txStartWh: null };
      this.evses.set(index, e);
    }
    return e;
  }

  publication(index: number, p: Publication): void {
    const e = this.evse(index);
    if (p.name !== "session_event") return;
    const value = p.value as { event?: string; transaction_started?: unknown; transaction_finished?: unknown };
    switch (value.event) {
      case "SessionStarted":
        e.sessions_started++;
        break;
      case "SessionFinished":
        e.sessions_finished++;
        break;
      case "TransactionStarted":
        e.transactions_started++;
        e.txStartWh = importWh(value.transaction_started);
        break;
      case "TransactionFinished": {
        const end = importWh(value.transaction_finished);
        if (end !== null && e.txStartWh !== null && end >= e.txStartWh) e.energy_Wh += end - e.txStartWh;
        e.txStartWh = null;
        break;
      }
    }
  }

  boardInput(index: number, input: BoardInput): void {
    const e = this.evse(index);
    e.board_inputs++;
    if (input.kind === "event" && (input.event === "PowerOn" || input.event === "PowerOff")) e.relay_switches++;
  }

  /** Reports per second since the previous sample that is at least RATE_MIN_WINDOW_MS old. */
  private reportRate(index: number, rx: number): number {
    const t = this.now();
    const from = this.rateFrom.get(index);
    if (!from || rx < from.rx) {
      this.rateFrom.set(index, { at: t, rx, rate: 0 });
      return 0;
    }
    if (t - from.at < RATE_MIN_WINDOW_MS) return from.rate;
    const rate = ((rx - from.rx) * 1000) / (t - from.at);
    this.rateFrom.set(index, { at: t, rx, rate });
    return rate;
  }

  render(sources: readonly MetricsSource[] = []): string {
    const out: string[] = [];
    const family = (type: "counter" | "gauge", name: string, help: string, rows: [Record<string, string | number>, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [l, value] of rows) out.push(`${name}${labels(l)} ${value}`);
    };
    const counter = (name: string, help: string, rows: [Record<string, string | number>, number][]) => family("counter", name, help, rows);
    const evses = [...this.evses.entries()].sort((a, b) => a[0] - b[0]);
    const perEvse = (pick: (e: EvseCounters) => number) => evses.map(([evse, e]): [Record<string, number>, number] => [{ evse }, pick(e)]);

    counter("evse_sessions_started_total", "Sessions started (SessionStarted events).", perEvse((e) => e.sessions_started));
    counter("evse_sessions_finished_total", "Sessions finished (SessionFinished events).", perEvse((e) => e.sessions_finished));
    counter("evse_transactions_started_total", "Transactions started.", perEvse((e) => e.transactions_started));
    counter("evse_energy_delivered_wh_total", "Energy imported during finished transactions, Wh.", perEvse((e) => e.energy_Wh));
    counter("evse_relay_switches_total", "Relay state changes reported by the board (PowerOn/PowerOff).", perEvse((e) => e.relay_switches));
    counter("evse_board_inputs_total", "Board inputs delivered to the kernel (CP/relay events, meter, telemetry, errors).", perEvse((e) => e.board_inputs));

    const workers = [...sources]
      .sort((a, b) => a.index - b.index)
      .flatMap((s) => {
        const w = workerCounters(s.board);
        return w ? [{ evse: s.index, w }] : [];
      });
    const perWorker = (pick: (w: WorkerCounters) => number) => workers.map(({ evse, w }): [Record<string, number>, number] => [{ evse }, pick(w)]);
    counter("evse_board_reports_total", "Valid input reports received from the board by the real-time worker.", perWorker((w) => w.rx));
    family(
      "gauge",
      "evse_board_report_rate_hz",
      "Input reports per second over the last scrape window of at least 1 s (0 on the first scrape).",
      workers.map(({ evse, w }) => [{ evse }, this.reportRate(evse, w.rx)]),
    );
    counter("evse_board_reports_rejected_total", "Malformed input reports dropped by the real-time worker.", perWorker((w) => w.rejected));
    counter("evse_board_reports_sent_total", "Output reports written to the board.", perWorker((w) => w.tx));
    counter("evse_interlock_trips_total", "Times a real-time interlock opened the relays.", perWorker((w) => w.trips));
    counter("evse_worker_events_dropped_total", "Board events dropped because the event ring was full.", perWorker((w) => w.eventsDropped));

    out.push(
      "# HELP evse_rt_reaction_latency_seconds Real-time loop: input report received to output report written, for reports that changed the outputs.",
      "# TYPE evse_rt_reaction_latency_seconds histogram",
    );
    for (const { evse, w } of workers) {
      const r = w.reaction;
      REACT_BUCKETS_US.forEach((us, b) => out.push(`evse_rt_reaction_latency_seconds_bucket${labels({ evse, le: us / 1e6 })} ${r.bucketsUs[b] ?? 0}`));
      out.push(`evse_rt_reaction_latency_seconds_bucket${labels({ evse, le: "+Inf" })} ${r.count}`);
      out.push(`evse_rt_reaction_latency_seconds_sum${labels({ evse })} ${r.sumUs / 1e6}`);
      out.push(`evse_rt_reaction_latency_seconds_count${labels({ evse })} ${r.count}`);
    }
    const statuses = [...sources].sort((a, b) => a.index - b.index).flatMap((s) => (s.kernel ? [{ evse: s.index, st: s.kernel.status() }] : []));
    family("gauge", "evse_control_failsafe_active", "1 while PUT …/control's local limit has fallen back to control.failsafe_current_A.", statuses.map(({ evse, st }) => [{ evse }, st.failsafe ? 1 : 0]));
    family(
      "gauge",
      "evse_control_local_limit_amperes",
      "Standing local current limit set by PUT …/control (EVSEs without one have no sample).",
      statuses.flatMap(({ evse, st }): [Record<string, number>, number][] => (st.local_limit_A === null ? [] : [[{ evse }, st.local_limit_A]])),
    );
    family(
      "gauge",
      "evse_site_share_amperes",
      "This EVSE's share of site.max_current_A (no sample without a site limit).",
      statuses.flatMap(({ evse, st }): [Record<string, number>, number][] => (st.site_share_A === null ? [] : [[{ evse }, st.site_share_A]])),
    );
    family("gauge", "evse_rt_reaction_latency_max_seconds", "Longest reaction since the worker started.", perWorker((w) => w.reaction.maxUs / 1e6));
    family(
      "gauge",
      "evse_event_stream_subscribers",
      "Open event streams (GET /api/v1/evses/{i}/events) of the EVSE.",
      [...sources].sort((a, b) => a.index - b.index).flatMap((s): [Record<string, number>, number][] => (s.publications ? [[{ evse: s.index }, s.publications.subscriberCount]] : [])),
    );
    counter(
      "evse_api_requests_total",
      "HTTP requests by method, route and status.",
      [...this.requests.values()].map((r) => [{ method: r.method, route: r.route, status: r.status }, r.count]),
    );

    out.push("# HELP evse_api_request_duration_seconds HTTP request latency by route.", "# TYPE evse_api_request_duration_seconds histogram");
    for (const [route, h] of this.latency) {
      LATENCY_BUCKETS_S.forEach((le, i) => out.push(`evse_api_request_duration_seconds_bucket${labels({ route, le })} ${h.buckets[i]}`));
      out.push(`evse_api_request_duration_seconds_bucket${labels({ route, le: "+Inf" })} ${h.count}`);
      out.push(`evse_api_request_duration_seconds_sum${labels({ route })} ${h.sum}`);
      out.push(`evse_api_request_duration_seconds_count${labels({ route })} ${h.count}`);
    }

    const mqtt = this.mqttSource?.() ?? { connected: false, received: 0, sent: 0, dropped: { superseded: 0, queue_full: 0, rejected: 0 }, queued: 0 };
    family("gauge", "evse_mqtt_connected", "1 while connected to the MQTT broker (0 also when mqtt.url is not set).", [[{}, mqtt.connected ? 1 : 0]]);
    counter("evse_mqtt_messages_received_total", "MQTT messages received (commands, control, Home Assistant status, discovery scan).", [[{}, mqtt.received]]);
    counter("evse_mqtt_messages_sent_total", "MQTT messages published and acknowledged by the broker.", [[{}, mqtt.sent]]);
    counter(
      "evse_mqtt_messages_dropped_total",
      "MQTT messages not sent: superseded by a newer state, queue_full (events beyond the outgoing queue), rejected by the client.",
      Object.entries(mqtt.dropped).map(([reason, n]): [Record<string, string>, number] => [{ reason }, n]),
    );
    family("gauge", "evse_mqtt_queue_messages", "MQTT messages waiting to be sent or acknowledged.", [[{}, mqtt.queued]]);
    return out.join("\n") + "\n";
  }
}
