// The WebSocket to the CSMS (OCPP-J 1.6, sub-protocol `ocpp1.6`): ocpp-rpc's RPCClient in strict
// mode, so every message in both directions is checked against the official OCPP 1.6 JSON schemas.
// Around it: security profiles 0–3 (basic auth, TLS with an extra CA, client certificate),
// reconnects with exponential back-off and jitter (3 s … 5 min, ocpp.md §8), one log line and one
// metric per message, and CALLERROR codes as OCPP-J 1.6 names them.
import { readFileSync } from "node:fs";
import { RPCClient } from "ocpp-rpc";
import type { OcppOptions } from "../core/config/index.ts";

const BACKOFF_MIN_MS = 3_000;
const BACKOFF_MAX_MS = 300_000;

/** OCPP-J 1.6 §4.2.3 has no frame-level codes of its own: a frame that is not a proper CALL is a
 * FormationViolation; ocpp-rpc's OCPP 2.0.1 names are translated. Details are dropped so a huge
 * or hostile payload is never echoed back. */
const CODE_1_6: Record<string, string> = { RpcFrameworkError: "FormationViolation", MessageTypeNotSupported: "NotSupported", FormatViolation: "FormationViolation" };

class Ocpp16Client extends RPCClient {
  override sendRaw(message: string): void {
    if (typeof message === "string" && message.startsWith("[4,")) {
      try {
        const frame = JSON.parse(message) as [number, string, string, string, unknown];
        const code = CODE_1_6[frame[2]] ?? frame[2];
        message = JSON.stringify([4, frame[1], code, String(frame[3] ?? "").slice(0, 200), {}]);
      } catch {
        // our own frame: always JSON
      }
    }
    super.sendRaw(message);
  }
}

// A frame of a message type OCPP-J does not have is answered under its own id (ocpp-rpc would use
// "-1"). ocpp-rpc keeps its frame parser private, hence the prototype.
const baseOnMessage = (RPCClient.prototype as unknown as { _onMessage(b: Buffer): void })._onMessage;
(Ocpp16Client.prototype as unknown as { _onMessage(b: Buffer): void })._onMessage = function (this: Ocpp16Client, buffer: Buffer): void {
  const text = buffer.toString("utf8");
  try {
    const f = JSON.parse(text) as unknown;
    if (Array.isArray(f) && typeof f[0] === "number" && typeof f[1] === "string" && ![2, 3, 4].includes(f[0])) {
      this.emit("message", { message: text, outbound: false });
      this.sendRaw(JSON.stringify([4, f[1], "NotSupported", "unknown message type", {}]));
      return;
    }
  } catch {
    // not JSON: ocpp-rpc answers it
  }
  baseOnMessage.call(this, buffer);
};

export interface ConnectionEvents {
  open(): void;
  close(): void;
  /** direction in|out, kind CALL|CALLRESULT|CALLERROR, action when known, message id. */
  message(direction: "in" | "out", kind: string, action: string | null, id: string, code?: string): void;
  error(text: string): void;
}

export type Handler = (params: any) => unknown | Promise<unknown>;

export class CsmsConnection {
  private client: Ocpp16Client | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly handlers = new Map<string, Handler>();
  /** Message id → action, for CALLRESULT/CALLERROR log lines. */
  private readonly actions = new Map<string, string>();
  connected = false;
  reconnects = 0;

  constructor(
    private readonly options: OcppOptions,
    private readonly events: ConnectionEvents,
    private readonly pingIntervalS: () => number,
  ) {}

  handle(action: string, handler: Handler): void {
    this.handlers.set(action, handler);
    this.client?.handle(action, ({ params }) => handler(params) as Promise<Record<string, any>>);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  private wsOptions(): Record<string, unknown> {
    const o = this.options;
    const ws: Record<string, unknown> = {};
    if (o.ca_file) ws.ca = [readFileSync(o.ca_file)];
    if (o.security_profile === 3) {
      ws.cert = readFileSync(o.client_cert_file);
      ws.key = readFileSync(o.client_key_file);
    }
    return ws;
  }

  private connect(): void {
    if (this.stopped) return;
    const o = this.options;
    let client: Ocpp16Client;
    try {
      client = new Ocpp16Client({
        endpoint: o.central_system_url!.replace(/\/+$/, ""),
        identity: o.charge_point_id!,
        protocols: ["ocpp1.6"],
        strictMode: true,
        reconnect: false,
        callTimeoutMs: 30_000,
        pingIntervalMs: this.pingIntervalS() * 1000,
        password: o.security_profile === 1 || o.security_profile === 2 ? o.authorization_key : null,
        wsOpts: this.wsOptions(),
        maxBadMessages: Infinity,
      } as never);
    } catch (err) {
      this.events.error(`cannot set up the connection: ${(err as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    for (const [action, handler] of this.handlers) client.handle(action, ({ params }) => handler(params) as Promise<Record<string, any>>);
    client.on("message", ({ message, outbound }: { message: string | Buffer; outbound: boolean }) => this.observe(String(message), outbound));
    client.on("open", () => {
      this.attempt = 0;
      this.connected = true;
      this.events.open();
    });
    client.on("close", () => {
      if (this.client !== client) return;
      const was = this.connected;
      this.connected = false;
      this.client = null;
      this.actions.clear();
      if (was) this.events.close();
      this.scheduleReconnect();
    });
    client.on("socketError", (err: Error) => this.events.error(err.message));
    client.connect().catch((err: Error & { code?: number }) => this.events.error(`cannot connect: ${err.code ? `HTTP ${err.code} ` : ""}${err.message}`));
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnects++;
      this.connect();
    }, Math.min(delay, BACKOFF_MAX_MS));
  }

  private observe(text: string, outbound: boolean): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.events.message(outbound ? "out" : "in", "INVALID", null, "-");
      return;
    }
    if (!Array.isArray(frame) || typeof frame[1] !== "string") {
      this.events.message(outbound ? "out" : "in", "INVALID", null, "-");
      return;
    }
    const [type, id] = frame as [unknown, string];
    const dir = outbound ? "out" : "in";
    if (type === 2) {
      const action = typeof frame[2] === "string" ? frame[2].slice(0, 64) : null;
      if (action) this.actions.set(id, action);
      if (this.actions.size > 1000) this.actions.clear();
      this.events.message(dir, "CALL", action, id.slice(0, 64));
    } else if (type === 3 || type === 4) {
      const action = this.actions.get(id) ?? null;
      this.actions.delete(id);
      this.events.message(dir, type === 3 ? "CALLRESULT" : "CALLERROR", action, id.slice(0, 64), type === 4 ? String(frame[2]).slice(0, 64) : undefined);
    } else this.events.message(dir, "INVALID", null, id.slice(0, 64));
  }

  /** A CALL to the CSMS; rejects when not connected, on CALLERROR or after `timeoutMs`. */
  async call(action: string, payload: unknown, timeoutMs = 30_000): Promise<any> {
    const client = this.client;
    if (!client || !this.connected) throw new NotConnectedError();
    return client.call(action, payload, { callTimeoutMs: timeoutMs });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (client) await client.close({ code: 1000, force: false, awaitPending: false }).catch(() => {});
  }

  /** WebSocketPingInterval changed: applies to the open connection at once. */
  setPingInterval(seconds: number): void {
    this.client?.reconfigure({ pingIntervalMs: seconds * 1000 } as never);
  }
}

export class NotConnectedError extends Error {
  constructor() {
    super("not connected to the CSMS");
    this.name = "NotConnectedError";
  }
}
