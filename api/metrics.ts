// Counters for GET /metrics (Prometheus text format 0.0.4). Fed by the request middleware, the
// publication logs (sessions, energy) and the board inputs (relay switches, report count).
import type { BoardInput } from "../core/ports.ts";
import type { Publication } from "./publications.ts";

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
  board_reports: number;
  txStartWh: number | null;
}

const labels = (pairs: Record<string, string | number>): string =>
  "{" + Object.entries(pairs).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`))}"`).join(",") + "}";

function importWh(value: unknown): number | null {
  const total = (value as { meter_value?: { energy_Wh_import?: { total?: unknown } } } | undefined)?.meter_value?.energy_Wh_import?.total;
  return typeof total === "number" && Number.isFinite(total) ? total : null;
}

export class Metrics {
  private readonly requests = new Map<string, { method: string; route: string; status: number; count: number }>();
  private readonly latency = new Map<string, Histogram>();
  private readonly evses = new Map<number, EvseCounters>();

  request(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    const entry = this.requests.get(key) ?? { method, route, status, count: 0 };
    entry.count++;
    this.requests.set(key, entry);
    const h = this.latency.get(route) ?? { buckets: LATENCY_BUCKETS_S.map(() => 0), count: 0, sum: 0 };
    LATENCY_BUCKETS_S.forEach((le, i) => {
      if (seconds <= le) h.buckets[i]!++;
    });
    h.count++;
    h.sum += seconds;
    this.latency.set(route, h);
  }

  private evse(index: number): EvseCounters {
    let e = this.evses.get(index);
    if (!e) {
      e = { sessions_started: 0, sessions_finished: 0, transactions_started: 0, energy_Wh: 0, relay_switches: 0, board_reports: 0, txStartWh: null };
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
    e.board_reports++;
    if (input.kind === "event" && (input.event === "PowerOn" || input.event === "PowerOff")) e.relay_switches++;
  }

  render(): string {
    const out: string[] = [];
    const counter = (name: string, help: string, rows: [Record<string, string | number>, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [l, value] of rows) out.push(`${name}${labels(l)} ${value}`);
    };
    const evses = [...this.evses.entries()].sort((a, b) => a[0] - b[0]);
    const perEvse = (pick: (e: EvseCounters) => number) => evses.map(([evse, e]): [Record<string, number>, number] => [{ evse }, pick(e)]);

    counter("evse_sessions_started_total", "Sessions started (SessionStarted events).", perEvse((e) => e.sessions_started));
    counter("evse_sessions_finished_total", "Sessions finished (SessionFinished events).", perEvse((e) => e.sessions_finished));
    counter("evse_transactions_started_total", "Transactions started.", perEvse((e) => e.transactions_started));
    counter("evse_energy_delivered_wh_total", "Energy imported during finished transactions, Wh.", perEvse((e) => e.energy_Wh));
    counter("evse_relay_switches_total", "Relay state changes reported by the board (PowerOn/PowerOff).", perEvse((e) => e.relay_switches));
    counter("evse_board_reports_total", "Reports received from the board (events, meter, telemetry, errors).", perEvse((e) => e.board_reports));
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
    return out.join("\n") + "\n";
  }
}
