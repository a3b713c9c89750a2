// `npm run soak` (issue 5 item 5): at least 10,000 simulated charging sessions of mixed
// scenarios through the whole stack in one thread under a fake clock (bench/sim-stack.ts: real
// Kernel, real worker loop, real simulated board and car). Every session's events are checked
// against the allowed order (bench/session-grammar.ts); RSS is measured after a warm-up and at
// the end, after a forced GC. The last line printed is one JSON object:
//   {sessions, events_per_session, disorders, rss_start_mb, rss_end_mb, rss_growth_pct, ...}
// Exit code 1 when RSS grew by more than 5 %, any session came out of order or got stuck, or the
// board's relays were ever closed outside C/D.
// SOAK_SESSIONS changes the count (default 10,000), SOAK_SEED the scenario mix.
import type { CommandName, VariableName } from "../core/kernel-api.ts";
import { seededRandom } from "../sim/board/rng.ts";
import { SessionGrammar, type SessionEventLike } from "./session-grammar.ts";
import { SimStack } from "./sim-stack.ts";

const TOKEN = { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" };
const AUTH = { provided_token: TOKEN, validation_result: { authorization_status: "Accepted" } };
const CHARGE = "sleep 0.5;iec_wait_pwr_ready;draw_power_regulated 16,3";

/** One step of a scenario, at `at` ms after its start. */
type Action = { at: number; car: string } | { at: number; cmd: CommandName; args?: Record<string, unknown> } | { at: number; limitA: number; phases?: number };

interface Scenario {
  name: string;
  actions: Action[];
}

const SCENARIOS: Scenario[] = [
  { name: "plug-auth-charge-unplug", actions: [{ at: 0, car: `${CHARGE};sleep 4;unplug` }, { at: 1000, cmd: "authorize_response", args: AUTH }] },
  { name: "authorize-first", actions: [{ at: 0, cmd: "authorize_response", args: AUTH }, { at: 500, car: `${CHARGE};sleep 3;unplug` }] },
  { name: "ev-pause-resume", actions: [{ at: 0, car: `${CHARGE};sleep 2;pause;sleep 2;draw_power_regulated 16,3;sleep 2;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }] },
  { name: "ev-pause-unplug", actions: [{ at: 0, car: `${CHARGE};sleep 2;pause;sleep 1;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }] },
  {
    name: "evse-pause-resume",
    actions: [{ at: 0, car: `${CHARGE};sleep 8;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }, { at: 3000, cmd: "pause_charging" }, { at: 5000, cmd: "resume_charging" }],
  },
  { name: "stop-transaction", actions: [{ at: 0, car: `${CHARGE};sleep 6;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }, { at: 3500, cmd: "stop_transaction", args: { request: { reason: "Remote" } } }] },
  { name: "never-authorized", actions: [{ at: 0, car: "sleep 0.5;pause;sleep 2;unplug" }] },
  { name: "withdraw-before-plug", actions: [{ at: 0, cmd: "authorize_response", args: AUTH }, { at: 1000, cmd: "withdraw_authorization" }] },
  { name: "plugin-timeout", actions: [{ at: 0, car: "sleep 0.5;pause;sleep 3;unplug" }, { at: 1500, cmd: "withdraw_authorization" }, { at: 2000, cmd: "authorize_response", args: AUTH }] },
  { name: "error-e", actions: [{ at: 0, car: `${CHARGE};sleep 2;error_e;sleep 1;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }] },
  { name: "diode-fault", actions: [{ at: 0, car: `${CHARGE};sleep 2;diode_fail;sleep 2;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }] },
  { name: "rcd-trip", actions: [{ at: 0, car: `${CHARGE};sleep 2;rcd_current 30;sleep 2;rcd_current 0.1;sleep 2;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }] },
  {
    name: "disable-enable",
    actions: [
      { at: 0, car: `${CHARGE};sleep 7;unplug` },
      { at: 700, cmd: "authorize_response", args: AUTH },
      { at: 3000, cmd: "enable_disable", args: { connector_id: 0, cmd_source: { enable_source: "LocalAPI", enable_state: "Disable", enable_priority: 100 } } },
      { at: 5000, cmd: "enable_disable", args: { connector_id: 0, cmd_source: { enable_source: "LocalAPI", enable_state: "Enable", enable_priority: 100 } } },
    ],
  },
  {
    name: "reserve-plug-auth",
    actions: [
      { at: 0, cmd: "reserve", args: { reservation_id: 7 } },
      { at: 300, car: `${CHARGE};sleep 3;unplug` },
      { at: 1200, cmd: "authorize_response", args: { provided_token: TOKEN, validation_result: { authorization_status: "Accepted", reservation_id: 7 } } },
    ],
  },
  { name: "reserve-cancel", actions: [{ at: 0, cmd: "reserve", args: { reservation_id: 3 } }, { at: 500, cmd: "cancel_reservation" }, { at: 600, car: `${CHARGE};sleep 1;unplug` }, { at: 1500, cmd: "authorize_response", args: AUTH }] },
  { name: "limits-zero-then-16", actions: [{ at: 0, car: `${CHARGE};sleep 8;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }, { at: 3000, limitA: 0 }, { at: 5000, limitA: 16 }] },
  // switch_3ph1ph_delay_s (10 s by default) passes between SwitchingPhases and PrepareCharging.
  { name: "phase-switch", actions: [{ at: 0, car: `${CHARGE};sleep 30;unplug` }, { at: 700, cmd: "authorize_response", args: AUTH }, { at: 3000, limitA: 16, phases: 1 }, { at: 16000, limitA: 16, phases: 3 }] },
  { name: "ev-never-charges", actions: [{ at: 0, car: "sleep 0.5;pause;sleep 45;unplug" }, { at: 700, cmd: "authorize_response", args: AUTH }] },
  { name: "quick-unplug", actions: [{ at: 0, car: "sleep 0.3;pause;sleep 0.3;unplug" }] },
  { name: "limits-10", actions: [{ at: 0, limitA: 10 }, { at: 100, car: `${CHARGE};sleep 3;unplug` }, { at: 800, cmd: "authorize_response", args: AUTH }] },
];

/** A scenario is over when its actions ran, the car script ended, the car is out and no
 *  session is open; it is stuck after this long. */
const SCENARIO_LIMIT_MS = 120_000;
const LIMITS_VALID_MS = 3_600_000;

export interface SoakSummary {
  sessions: number;
  events_per_session: number;
  disorders: number;
  stuck: number;
  /** Board steps that found the relays closed outside C/D (never welded in the soak). */
  relays_closed_outside_cd: number;
  rss_start_mb: number;
  rss_end_mb: number;
  rss_growth_pct: number;
  simulated_hours: number;
  seconds: number;
  scenarios: Record<string, number>;
  examples: string[];
  dropped_events: number;
}

const mb = () => Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
function gcRss(): number {
  Bun.gc(true);
  Bun.gc(true);
  return mb();
}

export async function runSoak(opts: { sessions: number; seed: number; warmup?: number; log?: (line: string) => void; trace?: (line: string) => void }): Promise<SoakSummary> {
  const grammar = new SessionGrammar();
  const rand = seededRandom(opts.seed);
  let sessions = 0;
  let events = 0;
  let disorders = 0;
  let stuck = 0;
  let relayFaults = 0;
  const examples: string[] = [];
  const scenarios: Record<string, number> = {};
  const note = (what: string) => {
    disorders++;
    if (examples.length < 10) examples.push(what);
  };
  const publish = (name: VariableName, value: unknown) => {
    if (name !== "session_event") return;
    const done = grammar.push(value as SessionEventLike);
    if (done === null) return;
    sessions++;
    events += done.events.length;
    if (done.disorder !== null) note(`${current}: ${done.disorder}`);
    if (opts.trace) opts.trace(`${current}: ${done.events.join(" → ")}`);
  };
  let current = "boot";
  const stack = new SimStack({ publish });
  await stack.run(2000); // capabilities, first meter reading, kernel start

  const warmup = opts.warmup ?? Math.min(1000, Math.floor(opts.sessions / 10));
  let rssStart = NaN;
  const t0 = performance.now();
  const simT0 = stack.now;
  while (sessions < opts.sessions) {
    if (Number.isNaN(rssStart) && sessions >= warmup) {
      rssStart = gcRss();
    }
    const sc = SCENARIOS[Math.floor(rand() * SCENARIOS.length)]!;
    current = sc.name;
    scenarios[sc.name] = (scenarios[sc.name] ?? 0) + 1;
    const start = stack.now;
    let next = 0;
    for (;;) {
      const t = stack.now - start;
      while (next < sc.actions.length && sc.actions[next]!.at <= t) await act(stack, sc.actions[next++]!);
      const idle = next === sc.actions.length && !stack.car.status().running && stack.car.status().state === "UNPLUGGED" && grammar.open() === null;
      if (idle) break;
      if (t > SCENARIO_LIMIT_MS) {
        stuck++;
        note(`${sc.name}: stuck; open session ${JSON.stringify(grammar.open())}, car ${JSON.stringify(stack.car.status())}`);
        stack.car.post("unplug", true);
        await stack.run(3000);
        break;
      }
      await stack.step();
      const b = stack.board.snapshot();
      if (b.relays && b.cp !== 2 && b.cp !== 3) {
        relayFaults++;
        note(`${sc.name}: relays closed in CP ${"ABCDEF"[b.cp]}`);
      }
    }
    await cleanUp(stack);
    if (opts.log && sessions % 1000 < 1 && sessions > 0) opts.log(`${sessions} sessions, ${disorders} disorders, rss ${mb()} MB`);
  }
  const rssEnd = gcRss();
  for (const d of grammar.connectorDisorders) note(`connector: ${d}`);
  return {
    sessions,
    events_per_session: Math.round((events / Math.max(1, sessions)) * 100) / 100,
    disorders,
    stuck,
    relays_closed_outside_cd: relayFaults,
    rss_start_mb: rssStart,
    rss_end_mb: rssEnd,
    rss_growth_pct: Math.round(((rssEnd - rssStart) / rssStart) * 1000) / 10,
    simulated_hours: Math.round(((stack.now - simT0) / 3_600_000) * 10) / 10,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    scenarios,
    examples,
    dropped_events: stack.counters().eventsDropped,
  };
}

async function act(stack: SimStack, a: Action): Promise<void> {
  if ("car" in a) {
    stack.car.post(a.car, true);
  } else if ("cmd" in a) {
    await stack.kernel.command(a.cmd, a.args ?? {});
  } else {
    const valid_until = new Date(stack.now + LIMITS_VALID_MS).toISOString();
    await stack.kernel.enforceLimits({ uuid: "soak-em", valid_until, limits_root_side: { ac_max_current_A: a.limitA, ...(a.phases ? { ac_max_phase_count: a.phases } : {}) } });
  }
  await stack.kernel.idle();
}

/** Between scenarios: no reservation left, the connector enabled, the energy manager's limit
 *  lifted, so each scenario starts from the same place. */
async function cleanUp(stack: SimStack): Promise<void> {
  await stack.kernel.command("cancel_reservation", {});
  await stack.kernel.enforceLimits({ uuid: "soak-em", valid_until: new Date(stack.now + LIMITS_VALID_MS).toISOString(), limits_root_side: { ac_max_current_A: 32 } });
  await stack.kernel.command("enable_disable", { connector_id: 0, cmd_source: { enable_source: "LocalAPI", enable_state: "Unassigned", enable_priority: 100 } });
  await stack.run(500);
}

if (import.meta.main) {
  const sessions = Number(process.env.SOAK_SESSIONS ?? 10_000);
  const seed = Number(process.env.SOAK_SEED ?? 1);
  const trace = process.env.SOAK_TRACE ? (l: string) => console.error(l) : undefined;
  const summary = await runSoak({ sessions, seed, log: (l) => console.error(l), ...(trace ? { trace } : {}) });
  for (const e of summary.examples) console.error(`disorder: ${e}`);
  const { examples: _examples, ...figures } = summary;
  console.log(JSON.stringify(figures));
  const ok = summary.rss_growth_pct <= 5 && summary.disorders === 0 && summary.relays_closed_outside_cd === 0 && summary.sessions >= sessions;
  process.exit(ok ? 0 : 1);
}
