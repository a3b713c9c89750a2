// Issue 5 item 4: at least 10,000 random API bodies per run, across all 13 commands, the energy
// manager's enforce_limits and the simulated car and board, in-process against the real Hono app
// and a REAL kernel (test/kernel-harness.ts). Bodies: valid, mutated valid (missing, extra and
// wrong-typed keys), random JSON, huge strings, non-JSON, wrong content types, invalid UTF-8,
// deep nesting; plus wrong tokens, EVSE indexes and methods. Between requests the car plugs,
// charges and leaves, and time passes, so commands meet the kernel in many states.
// Never a 5xx; a refused request (4xx) publishes nothing and changes nothing.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { createApp, Metrics, PublicationLog, type ApiContext } from "../api/index.ts";
import { COMMAND_NAMES } from "../core/kernel-api.ts";
import {
  AuthorizationStatusSchema,
  AuthorizationTypeSchema,
  CertificateActionEnumSchema,
  EnableSourceSchema,
  EnableStateSchema,
  IdTokenTypeSchema,
  ResponseExiStreamStatusEnumSchema,
  StopTransactionReasonSchema,
} from "../core/types/index.ts";
import type { SimControl, SimState } from "../rt-worker/board-handle.ts";
import { SimBoard } from "../sim/board/physics.ts";
import { Car } from "../sim/car/index.ts";
import { Harness, T0 } from "./kernel-harness.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20250301);
const TOKEN = "fuzz-token";

/** The simulated car and board in-process: the API's sim routes reach real sim/ code. */
class InProcessSim implements SimControl {
  readonly car = new Car();
  readonly board = new SimBoard({ max_current_A_import: 32, connector_type: "IEC62196Type2Cable", pp_resistor_ohm: 220.1, weld_relays: false }, 0);
  state(): SimState {
    const s = this.board.snapshot();
    const c = this.car.status();
    return {
      cp_state: "A",
      pwm_duty_percent: null,
      relays_closed: s.relays,
      phases: 3,
      locked: s.locked,
      rcd_current_mA: 0,
      meter: { energy_Wh_import: 0, power_W: 0, current_A: { L1: 0, L2: 0, L3: 0 }, voltage_V: { L1: 230, L2: 230, L3: 230 } },
      car: { running: c.running, script: c.script, state: c.state },
    };
  }
  postScript(script: string, replace: boolean): void {
    this.car.post(script, replace);
  }
  stopScript(): void {
    this.car.stop();
  }
  setWeldRelays(weld: boolean): void {
    this.board.setWeld(weld);
  }
}

// ---- bodies ------------------------------------------------------------------------------------
const pick = <T extends string>(s: { options: readonly T[] }) => fc.constantFrom(...s.options);
const idToken = fc.record(
  { value: fc.oneof({ weight: 5, arbitrary: fc.constantFrom("RFID0001", "TOKEN2") }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }), type: pick(IdTokenTypeSchema), additional_info: fc.array(fc.record({ value: fc.string({ maxLength: 8 }), type: fc.string({ maxLength: 8 }) }), { maxLength: 2 }) },
  { requiredKeys: ["value", "type"] },
);
const providedToken = fc.record(
  { id_token: idToken, authorization_type: pick(AuthorizationTypeSchema), prevalidated: fc.boolean(), request_id: fc.integer(), connectors: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }) },
  { requiredKeys: ["id_token", "authorization_type"] },
);
const validationResult = fc.record(
  {
    authorization_status: fc.oneof({ weight: 3, arbitrary: fc.constant("Accepted") }, { weight: 1, arbitrary: pick(AuthorizationStatusSchema) }),
    reservation_id: fc.integer({ min: -2, max: 5 }),
    evse_ids: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    expiry_time: fc.constantFrom("2030-01-01T00:00:00Z", "2020-01-01T00:00:00.000Z", "not a date"),
  },
  { requiredKeys: ["authorization_status"] },
);
const isoDate = fc.integer({ min: -3_600_000, max: 86_400_000 }).map((d) => new Date(T0 + d).toISOString());

const VALID: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  get_evse: fc.constant({}),
  enable_disable: fc.record({
    connector_id: fc.integer({ min: -1, max: 2 }),
    cmd_source: fc.record({ enable_source: pick(EnableSourceSchema), enable_state: pick(EnableStateSchema), enable_priority: fc.integer({ min: -1, max: 10001 }) }),
  }),
  authorize_response: fc.record({ provided_token: providedToken, validation_result: validationResult }),
  withdraw_authorization: fc.constant({}),
  reserve: fc.record({ reservation_id: fc.oneof(fc.integer({ min: -3, max: 10 }), fc.double()) }),
  cancel_reservation: fc.constant({}),
  set_faulted: fc.constant({}),
  pause_charging: fc.constant({}),
  resume_charging: fc.constant({}),
  stop_transaction: fc.record({ request: fc.record({ reason: pick(StopTransactionReasonSchema), id_tag: providedToken }, { requiredKeys: ["reason"] }) }),
  force_unlock: fc.record({ connector_id: fc.integer({ min: -1, max: 2 }) }),
  set_get_certificate_response: fc.record({
    certificate_response: fc.record({ status: pick(ResponseExiStreamStatusEnumSchema), certificate_action: pick(CertificateActionEnumSchema), exi_response: fc.string({ maxLength: 20 }) }, { requiredKeys: ["status", "certificate_action"] }),
  }),
  external_ready_to_start_charging: fc.constant({}),
  enforce_limits: fc.record(
    {
      uuid: fc.string({ maxLength: 10 }),
      valid_until: isoDate,
      limits_root_side: fc.record({ ac_max_current_A: fc.double({ min: -10, max: 80, noNaN: true }), ac_max_phase_count: fc.integer({ min: 0, max: 4 }), total_power_W: fc.double({ min: -1, max: 30000, noNaN: true }) }, { requiredKeys: [] }),
      schedule: fc.array(fc.record({ timestamp: isoDate, limits_to_root: fc.record({ ac_max_current_A: fc.double({ min: 0, max: 40, noNaN: true }) }) }), { maxLength: 2 }),
    },
    { requiredKeys: ["uuid", "valid_until"] },
  ),
  sim_car: fc.record(
    {
      script: fc.oneof(
        fc.constantFrom("sleep 1;iec_wait_pwr_ready;draw_power_regulated 16,3;sleep 5;unplug", "pause", "frobnicate 3", "iso_wait_slac_matched", "draw_power_regulated 16", "sleep 1e400", ""),
        fc.string({ maxLength: 40 }),
      ),
      replace: fc.boolean(),
    },
    { requiredKeys: ["script"] },
  ),
  sim_board: fc.record({ weld_relays: fc.boolean() }),
};
const TARGETS = Object.keys(VALID);
expect(TARGETS.length).toBe(COMMAND_NAMES.length + 3);

/** A valid body with one key removed, one extra key added, or one value replaced by junk. */
function mutate(body: unknown, how: number, junk: unknown, depth = 0): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return junk;
  const keys = Object.keys(body);
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  if (keys.length === 0 || how % 3 === 0) {
    copy[`extra_${how}`] = junk;
    return copy;
  }
  const key = keys[how % keys.length]!;
  if (how % 3 === 1) delete copy[key];
  else copy[key] = depth < 3 && how % 2 === 0 ? mutate(copy[key], Math.floor(how / 7), junk, depth + 1) : junk;
  return copy;
}

function deep(depth: number, kind: number): string {
  const [open, close] = kind === 0 ? ["[", "]"] : ['{"a":', "}"];
  return open.repeat(depth) + "1" + close.repeat(depth);
}

type Body =
  | { kind: "valid" | "mutated"; how: number; junk: unknown }
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "huge"; size: number; inField: boolean }
  | { kind: "deep"; depth: number; shape: number }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "empty" };

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("valid" as const), how: fc.nat(), junk: fc.constant(null) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("mutated" as const), how: fc.nat(), junk: fc.jsonValue({ maxDepth: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("json" as const), value: fc.jsonValue({ maxDepth: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("text" as const), text: fc.string({ maxLength: 30, unit: "binary" }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("huge" as const), size: fc.constantFrom(1000, 60_000, 70_000), inField: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deep" as const), depth: fc.constantFrom(50, 2_000, 20_000, 30_000), shape: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bytes" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "empty" as const }) },
);

type Op =
  | { op: "request"; target: string; body: Body; valid: Record<string, unknown>; contentType: string | null; auth: number; evse: string; method: string }
  | { op: "car"; cp: "A" | "B" | "C" | "D" | "E" }
  | { op: "advance"; ms: number }
  | { op: "meter"; wh: number };

// Authorization opens the way to charging, so it comes more often than the others.
const targetArb = fc.oneof({ weight: 4, arbitrary: fc.constant("authorize_response") }, { weight: TARGETS.length, arbitrary: fc.constantFrom(...TARGETS) });
const requestArb: fc.Arbitrary<Op> = targetArb.chain((target) =>
    fc.record({
      op: fc.constant("request" as const),
      target: fc.constant(target),
      body: bodyArb,
      valid: VALID[target]!,
      contentType: fc.oneof({ weight: 12, arbitrary: fc.constant("application/json") }, { weight: 1, arbitrary: fc.constantFrom(null, "text/plain", "application/json; charset=utf-8", "multipart/form-data; boundary=x", "APPLICATION/JSON") }),
      auth: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
      evse: fc.oneof({ weight: 30, arbitrary: fc.constant("1") }, { weight: 1, arbitrary: fc.constantFrom("0", "2", "01", "x", "1e0", "-1", "999999999") }),
      method: fc.oneof({ weight: 30, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH") }),
    }),
  );

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: requestArb },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("car" as const), cp: fc.constantFrom("A" as const, "B" as const, "B" as const, "C" as const, "C" as const, "C" as const, "D" as const, "E" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(100, 1000, 7000) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("meter" as const), wh: fc.nat({ max: 100000 }) }) },
);

function encodeBody(op: Extract<Op, { op: "request" }>): string | Uint8Array | undefined {
  const b = op.body;
  switch (b.kind) {
    case "valid":
      return JSON.stringify(op.valid);
    case "mutated":
      return JSON.stringify(mutate(op.valid, b.how, b.junk));
    case "json":
      return JSON.stringify(b.value);
    case "text":
      return b.text;
    case "huge":
      return b.inField ? JSON.stringify({ ...op.valid, script: "x".repeat(b.size), uuid: "u".repeat(b.size) }) : "x".repeat(b.size);
    case "deep":
      return deep(b.depth, b.shape);
    case "bytes":
      return b.bytes;
    case "empty":
      return undefined;
  }
}

function pathOf(target: string, evse: string): string {
  if (target === "enforce_limits") return `/api/v1/evses/${evse}/energy/enforce_limits`;
  if (target === "sim_car") return `/api/v1/evses/${evse}/sim/car`;
  if (target === "sim_board") return `/api/v1/evses/${evse}/sim/board`;
  return `/api/v1/evses/${evse}/commands/${target}`;
}

async function rig() {
  const h = await Harness.start();
  const sim = new InProcessSim();
  const ctx: ApiContext = {
    version: "fuzz",
    token: TOKEN,
    evses: [{ index: 1, kernel: h.kernel, board: { health: () => ({ worker_running: true, board_answering: true }), sim }, publications: new PublicationLog() }],
    metrics: new Metrics(),
    now: () => h.clock.now(),
    startedAt: h.clock.now(),
  };
  return { h, sim, app: createApp(ctx) };
}

/** Everything a refused request must leave alone. */
function snapshot(h: Harness, sim: InProcessSim): string {
  return JSON.stringify({
    publications: h.publications.length,
    boardCalls: h.board.calls.length,
    errors: h.kernel.errors(),
    starts: h.meter!.starts.length,
    stops: h.meter!.stops.length,
    saves: h.store.saves,
    record: h.store.record,
    car: sim.car.status(),
    carOut: sim.car.outputs(),
    weld: sim.board.snapshot().weld,
  });
}

interface Tally {
  requests: number;
  byStatus: Record<number, number>;
  byTarget: Record<string, number>;
  events: Record<string, number>;
}

async function run(ops: Op[], tally: Tally): Promise<void> {
  const { h, sim, app } = await rig();
  for (const op of ops) {
    switch (op.op) {
      case "car":
        await h.car(op.cp);
        continue;
      case "advance":
        await h.advance(op.ms);
        continue;
      case "meter":
        await h.meterReading(op.wh);
        continue;
      case "request":
        break;
    }
    const headers: Record<string, string> = {};
    if (op.contentType !== null) headers["content-type"] = op.contentType;
    if (op.auth !== 1) headers.authorization = op.auth === 2 ? "Bearer wrong" : op.auth === 3 ? `Basic ${TOKEN}` : `Bearer ${TOKEN}`;
    const before = snapshot(h, sim);
    const body = op.method === "GET" ? undefined : encodeBody(op);
    const res = await app.request(pathOf(op.target, op.evse), { method: op.method, headers, body });
    await h.settle();
    tally.requests++;
    tally.byStatus[res.status] = (tally.byStatus[res.status] ?? 0) + 1;
    tally.byTarget[op.target] = (tally.byTarget[op.target] ?? 0) + 1;
    const text = await res.text();
    const where = `${op.method} ${pathOf(op.target, op.evse)} body ${String(body).slice(0, 200)}`;
    if (res.status >= 500) throw new Error(`${res.status} for ${where}: ${text.slice(0, 300)}`);
    if (res.status >= 400) {
      const json = JSON.parse(text) as { error?: unknown; message?: unknown };
      if (typeof json.error !== "string" || typeof json.message !== "string") throw new Error(`${res.status} without an error body for ${where}`);
      const after = snapshot(h, sim);
      if (after !== before) throw new Error(`refused (${res.status} ${json.error}) but state changed for ${where}:\n${before}\n${after}`);
    }
  }
  for (const e of h.events()) tally.events[e] = (tally.events[e] ?? 0) + 1;
}

test("10,000 random API bodies across all commands never give a 5xx and refusals change nothing", async () => {
  const tally: Tally = { requests: 0, byStatus: {}, byTarget: {}, events: {} };
  for (let batch = 0; tally.requests < 10_000; batch++) {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 120, maxLength: 160 }), (ops) => run(ops, tally)),
      { seed: SEED + batch, numRuns: 20, endOnFailure: true },
    );
  }
  if (process.env.FUZZ_VERBOSE) console.log(JSON.stringify(tally));
  expect(tally.requests).toBeGreaterThanOrEqual(10_000);
  for (const target of TARGETS) expect(tally.byTarget[target] ?? 0).toBeGreaterThan(200);
  // Both accepted and refused requests must be common, or the run proves little.
  const ok = (tally.byStatus[200] ?? 0) + (tally.byStatus[202] ?? 0);
  expect(ok).toBeGreaterThan(2_000);
  expect(tally.byStatus[400] ?? 0).toBeGreaterThan(2_000);
  // ...and the commands must meet the kernel in the middle of sessions, not only when idle.
  for (const e of ["TransactionStarted", "ChargingStarted", "ChargingPausedEV", "ChargingPausedEVSE", "TransactionFinished", "Disabled", "ReservationStart"]) expect(tally.events[e] ?? 0).toBeGreaterThan(5);
  for (const status of [401, 404, 405, 413, 415]) expect(tally.byStatus[status] ?? 0).toBeGreaterThan(0);
}, 120_000);
