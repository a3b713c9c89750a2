// Test side of the real CSMS (csms.cjs, ocpp-rpc RPCServer in strict mode, run under Node): spawns
// it on free ports and drives it through its control server.
import { join, resolve } from "node:path";

const SCRIPT = join(resolve(import.meta.dir), "csms.cjs");

export interface CsmsEntry {
  seq: number;
  at: string;
  type: "connected" | "disconnected" | "frame" | "call" | "csms_call" | "csms_result" | "csms_error" | "strict_failure" | "auth_refused";
  action?: string;
  params?: any;
  result?: any;
  code?: string | null;
  frame?: string;
  identity?: string;
  session?: any;
}

export interface Csms {
  port: number;
  url: string;
  log(): Promise<CsmsEntry[]>;
  /** Calls the charge point made with this action (in order). */
  calls(action: string): Promise<any[]>;
  waitFor(pred: (e: CsmsEntry) => boolean, timeoutMs?: number, what?: string): Promise<CsmsEntry>;
  waitCall(action: string, pred?: (params: any) => boolean, timeoutMs?: number): Promise<any>;
  call(action: string, params: unknown, timeoutMs?: number): Promise<{ result?: any; error?: { code: string | null; message: string } }>;
  raw(frames: string[], waitMs?: number): Promise<string[]>;
  answers(overrides: Record<string, unknown>): Promise<void>;
  outage(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCsms(args: string[] = []): Promise<Csms> {
  const proc = Bun.spawn(["node", SCRIPT, ...args], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let buffer = "";
  let ready: { port: number; control: number } | null = null;
  while (!ready) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the CSMS exited before it was ready");
    buffer += new TextDecoder().decode(value);
    const nl = buffer.indexOf("\n");
    if (nl >= 0) ready = JSON.parse(buffer.slice(0, nl));
  }
  // Keep draining stdout so the pipe never fills.
  void (async () => {
    for (;;) {
      const { done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
    }
  })();
  const control = `http://127.0.0.1:${ready.control}`;
  const post = async (path: string, body: unknown) => (await fetch(control + path, { method: "POST", body: JSON.stringify(body) })).json() as Promise<any>;
  const log = async () => (await (await fetch(control + "/log")).json()) as CsmsEntry[];
  const csms: Csms = {
    port: ready.port,
    url: `ws://127.0.0.1:${ready.port}/ocpp`,
    log,
    async calls(action) {
      return (await log()).filter((e) => e.type === "call" && e.action === action).map((e) => e.params);
    },
    async waitFor(pred, timeoutMs = 15_000, what = "entry") {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = (await log()).find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`CSMS: no ${what} within ${timeoutMs} ms; log:\n${(await log()).filter((e) => e.type !== "frame").map((e) => JSON.stringify(e)).join("\n")}`);
        await Bun.sleep(50);
      }
    },
    async waitCall(action, pred = () => true, timeoutMs = 15_000) {
      const e = await csms.waitFor((x) => x.type === "call" && x.action === action && pred(x.params), timeoutMs, `${action} call`);
      return e.params;
    },
    call: (action, params, timeoutMs) => post("/call", { action, params, timeoutMs }),
    async raw(frames, waitMs = 300) {
      return (await post("/raw", { frames, waitMs })).replies;
    },
    async answers(overrides) {
      await post("/answers", overrides);
    },
    async outage(ms) {
      await post("/outage", { ms });
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
  return csms;
}

/** The config of a charge point connected to `csms`, with OCPP keys and other options merged in. */
export function ocppConfig(csms: Csms, keys: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...extra, ocpp: { central_system_url: csms.url, charge_point_id: "CP001", configuration: { MeterValueSampleInterval: 0, ...keys } } };
}

export const RFID = (value: string, evse?: number) => ({ id_token: { value, type: "ISO14443" }, ...(evse ? { evse } : {}) });

/** At most `n` charge point + CSMS pairs at once: the machine has two cores shared with others. */
export function slots(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return async function withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
