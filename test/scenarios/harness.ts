// Black-box driver for the acceptance scenarios (scenarios.md §0): starts the real program as a child
// process, captures its event stream from id 1, and talks to it only over HTTP.
import { expect } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import YAML from "yaml";
import { SessionEventSchema } from "../../core/types/index.ts";

/** A received session event, as unvalidated JSON (the schema check runs in finish()). */
export type SessionEvent = { event: string; uuid: string } & Record<string, any>;

export const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
/** The program's entry point; SCENARIO_ENTRY runs the suite against another build of it. */
const ENTRY = process.env.SCENARIO_ENTRY ?? "main.ts";

export const E = "/api/v1/evses/1";

// ---------------------------------------------------------------------------------------------
// Named bodies and scripts of scenarios.md §0.3

export const TOKEN_A = { id_token: { value: "RFID0001", type: "ISO14443" }, authorization_type: "RFID" };
export const AUTH_A = { provided_token: TOKEN_A, validation_result: { authorization_status: "Accepted" } };
export const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
export const PLUG_ONLY = "sleep 1;iec_wait_pwr_ready;sleep 36000";
export const FREE_TOKEN = {
  id_token: { value: "FREESERVICE", type: "Local" },
  authorization_type: "RFID",
  prevalidated: true,
};

export const START_EVENTS = [
  "SessionStarted",
  "AuthRequired",
  "Authorized",
  "TransactionStarted",
  "PrepareCharging",
  "ChargingStarted",
] as const;
export const END_EVENTS = ["StoppingCharging", "ChargingFinished", "TransactionFinished", "SessionFinished"] as const;

export function source(enable_source: string, enable_state: string, enable_priority: number) {
  return { enable_source, enable_state, enable_priority };
}
export function DIS(src: string, prio: number, connector_id = 0) {
  return { connector_id, cmd_source: source(src, "Disable", prio) };
}
export function EN(src: string, prio: number, connector_id = 0) {
  return { connector_id, cmd_source: source(src, "Enable", prio) };
}

// ---------------------------------------------------------------------------------------------
// Small utilities

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();
/** A session event's own time, its `timestamp` on the kernel's clock (ms since the epoch): for an
 *  interval between two events, which the stream's delivery latency (`Msg.t`) would blur. */
export const eventTime = (m: { data: unknown }): number => Date.parse((m.data as SessionEvent).timestamp);

/** At most this many servers run at once (2-core machines, brief: ≤ 8). */
const MAX_SERVERS = Number(process.env.SCENARIO_MAX_SERVERS ?? 8);
let running = 0;
const queue: Array<() => void> = [];
async function acquire(): Promise<void> {
  if (running < MAX_SERVERS) {
    running++;
    return;
  }
  await new Promise<void>((r) => queue.push(r));
}
function release(): void {
  const next = queue.shift();
  if (next) next();
  else running--;
}

// ---------------------------------------------------------------------------------------------
// Event stream capture

export interface Msg {
  id: number;
  event: string;
  data: unknown;
  /** performance.now() when the message was received */
  t: number;
}

export interface Checkpoint {
  cp?: string;
  pwm?: number | null;
  relays?: boolean;
  locked?: boolean;
}

export interface SimView {
  cp_state: string;
  pwm_duty_percent: number | null;
  relays_closed: boolean;
  locked: boolean;
  rcd_current_mA: number;
  phases: number;
  meter: unknown;
  car: { running: boolean; script: string | null; state: string };
}

function matches(sim: SimView, exp: Checkpoint): boolean {
  if (exp.cp !== undefined && sim.cp_state !== exp.cp) return false;
  if (exp.relays !== undefined && sim.relays_closed !== exp.relays) return false;
  if (exp.locked !== undefined && sim.locked !== exp.locked) return false;
  if (exp.pwm !== undefined) {
    if (exp.pwm === null) {
      if (sim.pwm_duty_percent !== null) return false;
    } else if (sim.pwm_duty_percent === null || Math.abs(sim.pwm_duty_percent - exp.pwm) > 0.05) return false;
  }
  return true;
}

function show(sim: SimView | undefined): string {
  if (!sim) return "(no /sim answer)";
  return JSON.stringify({ cp: sim.cp_state, pwm: sim.pwm_duty_percent, relays: sim.relays_closed, locked: sim.locked });
}

export interface StartOptions {
  /** Configuration (nested maps); storage.path is added unless given. */
  config?: Record<string, unknown>;
  /** Reuse this temp dir (restart scenarios); a fresh one otherwise. */
  dir?: string;
  /** Wait for `ready` true (false for S23). */
  waitReady?: boolean;
}

export interface HttpAnswer {
  status: number;
  body: any;
  text: string;
  contentType: string | null;
}

/** One running evse-manager process with its captured event stream. */
export class Server {
  readonly messages: Msg[] = [];
  log = "";
  private cursor = 0;
  private abort = new AbortController();
  private streamDone: Promise<void> = Promise.resolve();
  exitCode: number | null = null;
  readonly exited: Promise<number>;

  private constructor(
    readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">,
    public base: string,
    readonly dir: string,
    readonly ownsDir: boolean,
  ) {
    this.exited = proc.exited.then((c) => {
      this.exitCode = c;
      return c;
    });
  }

  static async start(opts: StartOptions = {}): Promise<Server> {
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "evse-scenario-"));
    const config: Record<string, unknown> = { ...(opts.config ?? {}) };
    if (config.storage === undefined) config.storage = { path: join(dir, "evse-manager.sqlite") };
    const cfgPath = join(dir, "config.yaml");
    writeFileSync(cfgPath, YAML.stringify(config));
    // --port 0: the program picks a free port and prints "listening on http://HOST:PORT".
    const proc = Bun.spawn(
      [BUN, ENTRY, "--board", "sim", "--config", cfgPath, "--port", "0"],
      { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    const s = new Server(proc, "", dir, ownsDir);
    s.pump(proc.stdout);
    s.pump(proc.stderr);
    await s.waitHealthy();
    await s.openStream();
    if (opts.waitReady !== false) await s.until(async () => (await s.get(`${E}/vars/ready`)).body === true, 15_000, "vars/ready true");
    return s;
  }

  private pump(stream: ReadableStream<Uint8Array>): void {
    const dec = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of stream) {
          this.log += dec.decode(chunk, { stream: true });
          if (this.log.length > 400_000) this.log = this.log.slice(-200_000);
          if (this.base === "") {
            const m = /listening on (http:\/\/[\w.:\[\]-]+)/.exec(this.log);
            if (m?.[1]) this.base = m[1].replace("localhost", "127.0.0.1");
          }
        }
      } catch {
        // the child went away
      }
    })();
  }

  logTail(lines = 60): string {
    return this.log.split("\n").slice(-lines).join("\n");
  }

  private async waitHealthy(): Promise<void> {
    const deadline = now() + 20_000;
    while (now() < deadline) {
      if (this.exitCode !== null) throw new Error(`server exited with ${this.exitCode} before /healthz:\n${this.logTail()}`);
      if (this.base === "") {
        await sleep(50);
        continue;
      }
      try {
        const r = await fetch(`${this.base}/healthz`);
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`/healthz did not answer 200 within 20 s:\n${this.logTail()}`);
  }

  /** GET E/events with Last-Event-ID: 0 (replay from id 1, no snapshot), kept open until stop. */
  private async openStream(): Promise<void> {
    const res = await fetch(`${this.base}${E}/events`, {
      headers: { "Last-Event-ID": "0", Accept: "text/event-stream" },
      signal: this.abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`event stream answered ${res.status}`);
    const body = res.body;
    this.streamDone = (async () => {
      const dec = new TextDecoder();
      let buf = "";
      try {
        for await (const chunk of body) {
          buf += dec.decode(chunk, { stream: true }).replace(/\r\n?/g, "\n");
          let sep: number;
          while ((sep = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, sep);
            buf = buf.slice(sep + 2);
            this.parseBlock(block);
          }
        }
      } catch {
        // aborted at stop, or the process died
      }
    })();
  }

  private parseBlock(block: string): void {
    let id: number | undefined;
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? "" : line.slice(i + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") id = Number(value);
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      parsed = { unparsable: data.join("\n") };
    }
    this.messages.push({ id: id ?? Number.NaN, event, data: parsed, t: now() });
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  async req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      if (!("Content-Type" in headers)) (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
    const r = await fetch(`${this.base}${path}`, init);
    const text = await r.text();
    let parsed: any;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: r.status, body: parsed, text, contentType: r.headers.get("content-type") };
  }

  get(path: string): Promise<HttpAnswer> {
    return this.req("GET", path);
  }

  /** POST E/commands/<name>; asserts 200 {"result": r} and returns r. */
  async cmd(name: string, body: unknown = {}): Promise<unknown> {
    const r = await this.req("POST", `${E}/commands/${name}`, body);
    expect({ command: name, status: r.status, text: r.text }).toMatchObject({ status: 200 });
    expect(r.body).toBeObject();
    expect(Object.keys(r.body)).toEqual(["result"]);
    return r.body.result;
  }

  /** "→ r": the command answers 200 {"result": r}. */
  async cmdIs(name: string, body: unknown, result: unknown): Promise<void> {
    const got = await this.cmd(name, body);
    expect({ command: name, result: got }).toEqual({ command: name, result });
  }

  /** POST E/sim/car; 202. */
  async car(script: string, replace = false): Promise<void> {
    const r = await this.req("POST", `${E}/sim/car`, replace ? { script, replace: true } : { script });
    expect({ script, status: r.status, text: r.text }).toMatchObject({ status: 202 });
  }

  async nodeUuid(): Promise<string> {
    const limits = (await this.get(`${E}/vars/limits`)).body;
    return typeof limits?.uuid === "string" ? limits.uuid : "node";
  }

  /** POST E/energy/enforce_limits with the body as given; asserts 200 {"result": null}. */
  async enforce(body: Record<string, unknown>): Promise<void> {
    const r = await this.req("POST", `${E}/energy/enforce_limits`, body);
    expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { result: null } });
  }

  /** W(body) of S27: enforce_limits with limits_root_side = body. */
  async limitsRoot(limits_root_side: Record<string, unknown>, valid_until = "2099-01-01T00:00:00Z"): Promise<void> {
    await this.enforce({ uuid: await this.nodeUuid(), valid_until, limits_root_side });
  }

  /** ENF(x) */
  enf(amps: number, valid_until = "2099-01-01T00:00:00Z"): Promise<void> {
    return this.limitsRoot({ ac_max_current_A: amps }, valid_until);
  }

  async sim(): Promise<SimView> {
    const r = await this.get(`${E}/sim`);
    expect(r.status).toBe(200);
    return r.body as SimView;
  }

  async vars(): Promise<Record<string, any>> {
    const r = await this.get(`${E}/vars`);
    expect(r.status).toBe(200);
    return r.body;
  }

  async v(name: string): Promise<any> {
    const r = await this.get(`${E}/vars/${name}`);
    expect(r.status).toBe(200);
    return r.body;
  }

  async errors(): Promise<any[]> {
    const r = await this.get(`${E}/errors`);
    expect(r.status).toBe(200);
    return r.body;
  }

  // ---- checkpoints -----------------------------------------------------------------------------

  /** Passes when GET E/sim shows `exp` within `withinMs` (default 1.5 s) of `from` (default now), polled every 100 ms. */
  async checkpoint(exp: Checkpoint, opts: { withinMs?: number; from?: number; label?: string } = {}): Promise<SimView> {
    const from = opts.from ?? now();
    const deadline = from + (opts.withinMs ?? 1500);
    let last: SimView | undefined;
    for (;;) {
      last = await this.sim();
      if (matches(last, exp)) return last;
      if (now() >= deadline) break;
      await sleep(Math.max(0, Math.min(100, deadline - now())));
    }
    throw new Error(
      `checkpoint ${opts.label ?? ""} ${JSON.stringify(exp)} not reached within ${opts.withinMs ?? 1500} ms; last ${show(last)}`,
    );
  }

  /** Passes when GET E/sim shows `exp` at some poll between from+startMs and from+endMs. */
  async checkpointWindow(exp: Checkpoint, from: number, startMs: number, endMs: number, pollMs = 100): Promise<number> {
    const wait = from + startMs - now();
    if (wait > 0) await sleep(wait);
    let last: SimView | undefined;
    while (now() <= from + endMs) {
      const t = now();
      last = await this.sim();
      if (matches(last, exp) && t >= from + startMs - 1) return t - from;
      await sleep(pollMs);
    }
    throw new Error(`checkpoint ${JSON.stringify(exp)} not seen between +${startMs} and +${endMs} ms; last ${show(last)}`);
  }

  /** Holds as long as `holdMs`: every poll must match `exp`. */
  async holds(exp: Checkpoint, holdMs: number, pollMs = 100): Promise<void> {
    const end = now() + holdMs;
    while (now() < end) {
      const sim = await this.sim();
      if (!matches(sim, exp)) throw new Error(`expected ${JSON.stringify(exp)} to hold, got ${show(sim)}`);
      await sleep(pollMs);
    }
  }

  // ---- session events --------------------------------------------------------------------------

  sessionMsgs(): Msg[] {
    return this.messages.filter((m) => m.event === "session_event");
  }

  events(): SessionEvent[] {
    return this.sessionMsgs().map((m) => m.data as SessionEvent);
  }

  names(): string[] {
    return this.events().map((e) => e.event);
  }

  /** Publications of one variable (messages with event = name). */
  pubs(name: string, sinceId = 0): Msg[] {
    return this.messages.filter((m) => m.event === name && m.id > sinceId);
  }

  lastId(): number {
    return this.messages.length === 0 ? 0 : this.messages[this.messages.length - 1]!.id;
  }

  /** Number of session events so far (a mark for "events since"). */
  mark(): number {
    return this.sessionMsgs().length;
  }

  async until(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = now() + timeoutMs;
    for (;;) {
      if (await pred()) return;
      if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events so far: ${this.names().join(", ")}`);
      if (this.exitCode !== null && this.exitCode !== undefined && !this.stopping) {
        throw new Error(`server exited (${this.exitCode}) while waiting for ${what}:\n${this.logTail()}`);
      }
      await sleep(20);
    }
  }

  /** "wait X": the next session event X after the previous wait (timeout 10 s unless stated). */
  async waitEvent(name: string, timeoutMs = 10_000): Promise<Msg> {
    let found: Msg | undefined;
    await this.until(
      () => {
        const msgs = this.sessionMsgs();
        for (let i = this.cursor; i < msgs.length; i++) {
          if ((msgs[i]!.data as SessionEvent).event === name) {
            found = msgs[i];
            this.cursor = i + 1;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      `session event ${name}`,
    );
    return found!;
  }

  /** The session events after `mark` begin with exactly `names` (waits for them to arrive). */
  async eventsSince(mark: number, names: readonly string[], timeoutMs = 10_000): Promise<Msg[]> {
    await this.until(() => this.mark() - mark >= names.length, timeoutMs, `events ${names.join(", ")} after #${mark}`);
    // The next events are exactly these; anything after them is judged by finish()'s exact list.
    const got = this.sessionMsgs().slice(mark, mark + names.length);
    expect(got.map((m) => (m.data as SessionEvent).event)).toEqual([...names]);
    this.cursor = Math.max(this.cursor, mark + names.length);
    return got;
  }

  /** No session event arrives for `ms`. */
  async noEventFor(ms: number, label = ""): Promise<void> {
    const m = this.mark();
    await sleep(ms);
    expect({ label, newEvents: this.names().slice(m) }).toEqual({ label, newEvents: [] });
  }

  /** The last session event with this name (throws when absent). */
  last(name: string): SessionEvent {
    const e = this.events().filter((x) => x.event === name).at(-1);
    if (!e) throw new Error(`no ${name} event; events: ${this.names().join(", ")}`);
    return e;
  }

  all(name: string): SessionEvent[] {
    return this.events().filter((x) => x.event === name);
  }

  /**
   * End of a scenario: settle ≥ 3 s, then check the exact event list (after the boot `Enabled`, unless
   * `fromStart`), the closed schema of every session event, the uuid rules of §0.2 and gap-free ids.
   */
  async finish(expected: readonly string[], opts: { fromStart?: boolean; settleMs?: number } = {}): Promise<void> {
    await sleep(opts.settleMs ?? 3000);
    const names = this.names();
    if (opts.fromStart) {
      expect(names).toEqual([...expected]);
    } else {
      expect(names[0]).toBe("Enabled");
      expect(names.slice(1)).toEqual([...expected]);
    }
    checkStream(this.messages);
    checkSessionEvents(this.events());
  }

  // ---- process control -------------------------------------------------------------------------

  /** False once the scenario stopped this server or it exited (background samplers end then). */
  get alive(): boolean {
    return this.exitCode === null && !this.abort.signal.aborted;
  }

  private stopping = false;

  /** Sends a signal; the stream and the process are awaited by the caller when needed. */
  signal(sig: "SIGKILL" | "SIGTERM" | "SIGINT"): void {
    this.stopping = true;
    this.proc.kill(sig);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exitCode === null) {
      this.proc.kill("SIGTERM");
      const t = await Promise.race([this.exited, sleep(3000).then(() => null)]);
      if (t === null) this.proc.kill("SIGKILL");
      await this.exited;
    }
    this.abort.abort();
    await this.streamDone;
  }

  cleanup(): void {
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Ids start at 1 and grow by one per publication: the capture is complete. */
export function checkStream(messages: Msg[]): void {
  const ids = messages.map((m) => m.id);
  expect(ids[0]).toBe(1);
  const gaps = ids.filter((id, i) => i > 0 && id !== ids[i - 1]! + 1);
  expect({ idGaps: gaps }).toEqual({ idGaps: [] });
}

/** §0.2: closed schema; one non-empty uuid per session; reservation events carry ""; new session, new uuid. */
export function checkSessionEvents(events: SessionEvent[]): void {
  const seen = new Set<string>();
  let current: string | null = null;
  events.forEach((e, i) => {
    const r = v.safeParse(SessionEventSchema, e);
    if (!r.success) {
      const issues = r.issues.map((x) => `${v.getDotPath(x) ?? ""}: ${x.message}`).join("; ");
      throw new Error(`session event #${i} (${String((e as { event?: unknown }).event)}) fails the closed SessionEvent schema: ${issues}\n${JSON.stringify(e)}`);
    }
    if (e.event === "ReservationStart" || e.event === "ReservationEnd") {
      expect({ i, event: e.event, uuid: e.uuid }).toEqual({ i, event: e.event, uuid: "" });
      return;
    }
    if (e.event === "SessionStarted") {
      expect({ i, event: e.event, nonEmptyUuid: e.uuid !== "" }).toEqual({ i, event: e.event, nonEmptyUuid: true });
      expect({ i, event: e.event, reusedUuid: seen.has(e.uuid) }).toEqual({ i, event: e.event, reusedUuid: false });
      seen.add(e.uuid);
      current = e.uuid;
      return;
    }
    if (current !== null) {
      expect({ i, event: e.event, uuid: e.uuid }).toEqual({ i, event: e.event, uuid: current });
      if (e.event === "SessionFinished") current = null;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Test wrapper

export interface Ctx {
  start(opts?: StartOptions): Promise<Server>;
}

/** Runs one scenario with a server slot; every server it started is stopped afterwards. */
export async function scenario(body: (ctx: Ctx) => Promise<void>): Promise<void> {
  await acquire();
  const servers: Server[] = [];
  try {
    await body({
      start: async (opts) => {
        const s = await Server.start(opts);
        servers.push(s);
        return s;
      },
    });
  } catch (e) {
    const last = servers.at(-1);
    if (last) {
      const extra = `\n--- session events: ${last.names().join(", ")}\n--- server log tail:\n${last.logTail(40)}`;
      if (e instanceof Error) e.message += extra;
    }
    throw e;
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    for (const s of servers) s.cleanup();
    release();
  }
}

// Generous: a test may first wait for a free server in the pool (see acquire above).
export const SCENARIO_TIMEOUT = { timeout: 240_000 };

// ---------------------------------------------------------------------------------------------
// Common start sequences of scenarios.md §0.5

/** START_AUTH (defaults): PLUG_CHARGE; wait AuthRequired; authorize_response AUTH_A → null; wait ChargingStarted. */
export async function startAuth(s: Server): Promise<void> {
  await s.car(PLUG_CHARGE);
  await s.waitEvent("AuthRequired");
  await s.cmdIs("authorize_response", AUTH_A, null);
  await s.waitEvent("ChargingStarted");
}

/** START_FREE (disable_authentication): PLUG_CHARGE; wait ChargingStarted. */
export async function startFree(s: Server): Promise<void> {
  await s.car(PLUG_CHARGE);
  await s.waitEvent("ChargingStarted");
}

/** END_UNPLUG: replace `unplug`; the four end events (TransactionFinished reason EVDisconnected); CP A, all off. */
export async function endUnplug(s: Server): Promise<void> {
  const m = s.mark();
  const t = now();
  await s.car("unplug", true);
  await s.checkpoint({ cp: "A", pwm: null, relays: false, locked: false }, { from: t, label: "END_UNPLUG" });
  await s.eventsSince(m, END_EVENTS);
  expect(s.last("TransactionFinished").transaction_finished?.reason).toBe("EVDisconnected");
}

export function energyOf(e: SessionEvent | undefined, key: "transaction_started" | "transaction_finished" | "session_started" | "session_finished"): number {
  const mv = (e as Record<string, any> | undefined)?.[key]?.meter_value;
  if (typeof mv?.energy_Wh_import?.total !== "number") throw new Error(`${key}.meter_value.energy_Wh_import.total missing`);
  return mv.energy_Wh_import.total;
}
