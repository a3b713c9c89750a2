// The MQTT bridge (integration.md §3–4): publishes availability, status, the 14 variables, session
// events and errors of every EVSE, and turns command and control topics into the same calls the
// HTTP API makes. It only translates: what an EVSE is and does comes in through BridgeEvse, so the
// bridge knows no kernel.
//
// A broker outage or a slow broker never reaches charging or the API: publications only land in a
// bounded Outbox (outbox.ts); a pump hands at most `inflight limit` unacknowledged messages to the
// client, so a broker that stops acknowledging only fills that bounded queue. The connection is
// retried with exponential back-off forever. Every connection is a fresh mqtt.js client with its
// own reconnect turned off, so what is in flight, what is resent (in order, in front of the queue)
// and when the next attempt happens is decided here, not inside the library.
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import { decodeJsonBytes } from "../api/body.ts";
import { unknownEvse } from "../api/context.ts";
import { ApiError } from "../api/errors.ts";
import type { Publication } from "../api/publications.ts";
import type { MqttConfig } from "../core/config/index.ts";
import type { ActiveError } from "../core/kernel-api.ts";
import { controlBodyOf, isControlField } from "./control-values.ts";
import { discoveryConfigs, evseIndexOfObjectId, slug } from "./discovery.ts";
import { Outbox, type DropReason, type OutMessage, type Queued } from "./outbox.ts";

/** One EVSE as the bridge sees it. */
export interface BridgeEvse {
  /** 1-based, as in the topics. */
  index: number;
  evseId: string;
  publications: { onPublish(listener: (p: Publication) => void): void; values(): Record<string, unknown> };
  errors(): ActiveError[];
  /** The §1 status summary (without `evse`; the bridge adds it). */
  status(): object;
  /** `PUT …/control` (§2): resolves with the new status summary; throws ApiError on refusal. */
  control(body: unknown): Promise<object>;
  /** `POST …/commands/{name}` with the body already decoded; answers as HTTP would. */
  command(name: string, body: unknown): Promise<{ status: number; body: unknown }>;
  /** Read when discovery is announced: the board's capabilities arrive after the start. */
  canSwitchPhases(): boolean;
  maxCurrentA(): number;
}

export interface BridgeDeps {
  evses: BridgeEvse[];
  log(line: string): void;
  version: string;
  hostname: string;
  /** Contents of `mqtt.ca_file`, read by the caller. */
  ca?: Buffer;
}

export interface MqttStats {
  connected: boolean;
  received: number;
  sent: number;
  dropped: Record<DropReason | "rejected", number>;
  queued: number;
  /** Why the last connection attempt failed or the connection was lost; null while connected. */
  last_error: string | null;
}

export interface MqttBridge {
  readonly prefix: string;
  /** `mqtt.url` as scheme://host:port, without credentials (GET /api/v1/mqtt). */
  readonly broker: string;
  stats(): MqttStats;
  /** Publishes `offline` (retained) when connected, then disconnects. */
  stop(): Promise<void>;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Also bounded by the broker's Receive Maximum (MQTT 5). */
const INFLIGHT_MAX = 64;
const MAX_ORDERED = 10_000;
/** How often status and errors are compared with what was last published (change detection
 *  for what no publication announces, e.g. a CP change or an error). */
const CHANGE_POLL_MS = 1000;
const STOP_TIMEOUT_MS = 500;

export const defaultTopicPrefix = (hostname: string): string => `evse-manager/${hostname.replace(/[+#/\u0000]/g, "_") || "localhost"}`;

export function startMqttBridge(config: MqttConfig & { url: string }, deps: BridgeDeps): MqttBridge {
  const prefix = config.topic_prefix ?? defaultTopicPrefix(deps.hostname);
  const ha = config.homeassistant;
  const nodeId = slug(prefix);
  const availability = `${prefix}/availability`;
  const haStatus = `${ha.discovery_prefix}/status`;
  const discoveryScan = `${ha.discovery_prefix}/+/${nodeId}/+/config`;
  const v5 = config.protocol_version === 5;
  const log = deps.log;

  const stats: MqttStats = { connected: false, received: 0, sent: 0, dropped: { superseded: 0, queue_full: 0, rejected: 0 }, queued: 0, last_error: null };
  const outbox = new Outbox({ maxOrdered: MAX_ORDERED, onDrop: (reason) => stats.dropped[reason]++, log });
  const byIndex = new Map(deps.evses.map((e) => [e.index, e]));

  // ---- what goes out ------------------------------------------------------------------------
  const json = (value: unknown) => JSON.stringify(value === undefined ? null : value);
  const state = (topic: string, payload: string): OutMessage => ({ topic, payload, retain: true, qos: 1 });
  const last = new Map<number, { status: string | null; errors: string | null }>();
  const dirty = new Set<number>();

  function refresh(e: BridgeEvse, force: boolean): void {
    const seen = last.get(e.index) ?? { status: null, errors: null };
    last.set(e.index, seen);
    try {
      const status = json({ evse: e.index, ...e.status() });
      if (force || status !== seen.status) outbox.putLatest(state(`${prefix}/evse/${e.index}/status`, (seen.status = status)));
      const errors = json(e.errors());
      if (force || errors !== seen.errors) outbox.putLatest(state(`${prefix}/evse/${e.index}/errors`, (seen.errors = errors)));
    } catch (err) {
      log(`ERROR MQTT: evse ${e.index}: cannot build the status: ${(err as Error).message}`);
    }
  }

  function onPublication(e: BridgeEvse, p: Publication): void {
    const base = `${prefix}/evse/${e.index}`;
    if (p.name === "session_event") {
      const payload = json(p.value);
      outbox.putOrdered({ topic: `${base}/event`, payload, retain: false, qos: 1 });
      outbox.putOrdered({ topic: `${base}/var/session_event`, payload, retain: false, qos: 1 });
    } else {
      outbox.putLatest(state(`${base}/var/${p.name}`, json(p.value)));
      if (p.name === "hw_capabilities" && ha.enabled) announce();
    }
    dirty.add(e.index);
    schedule();
  }

  /** Current discovery topics → payloads; computed per announcement (capabilities may change). */
  function discovery(): Map<string, string> {
    const out = new Map<string, string>();
    if (!ha.enabled) return out;
    for (const e of deps.evses) {
      const configs = discoveryConfigs(
        { index: e.index, evseId: e.evseId, canSwitchPhases: e.canSwitchPhases(), maxCurrentA: e.maxCurrentA() },
        { discoveryPrefix: ha.discovery_prefix, prefix, nodeId, version: deps.version },
      );
      for (const c of configs) out.set(c.topic, json(c.config));
    }
    return out;
  }
  let announced = new Map<string, string>();
  /** Retained configs seen before their EVSE's capabilities were known (clearIfStale). */
  const undecided = new Set<string>();
  function announce(): void {
    announced = discovery();
    for (const [topic, payload] of announced) outbox.putLatest(state(topic, payload));
    const pending = [...undecided];
    undecided.clear();
    for (const topic of pending) clearIfStale(topic, Buffer.from("x"));
    schedule();
  }

  /** Everything retained, again: after a connect the broker may have lost it (no persistence). */
  function republishAll(): void {
    for (const e of deps.evses) {
      const values = e.publications.values();
      for (const [name, value] of Object.entries(values)) {
        // Never published yet is `null`, as GET …/vars shows it: a client sees all 13 retained.
        if (name === "session_event") continue;
        outbox.putLatest(state(`${prefix}/evse/${e.index}/var/${name}`, json(value)));
      }
      refresh(e, true);
    }
    if (ha.enabled) announce();
  }

  // ---- the pump -----------------------------------------------------------------------------
  let client: MqttClient | null = null;
  let connected = false;
  /** Bumped on every connection attempt; callbacks of an older client are ignored. */
  let generation = 0;
  let inflightLimit = INFLIGHT_MAX;
  const inflight = new Map<number, Queued>();
  let pumpScheduled = false;

  function schedule(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(pump);
  }

  function pump(): void {
    pumpScheduled = false;
    for (const index of dirty) {
      const e = byIndex.get(index);
      if (e) refresh(e, false);
    }
    dirty.clear();
    stats.queued = outbox.size + inflight.size;
    const c = client;
    if (!c || !connected) return;
    const gen = generation;
    while (inflight.size < inflightLimit) {
      const q = outbox.next();
      if (!q) break;
      inflight.set(q.seq, q);
      const { topic, payload, retain, qos, properties } = q.msg;
      c.publish(topic, payload, v5 && properties ? { qos, retain, properties } : { qos, retain }, (err) => {
        if (gen !== generation) return; // that connection is gone; its messages were requeued
        inflight.delete(q.seq);
        if (err) {
          stats.dropped.rejected++;
          log(`WARNING MQTT: publish to ${topic} failed: ${err.message}`);
        } else stats.sent++;
        schedule();
      });
    }
    stats.queued = outbox.size + inflight.size;
  }

  // ---- what comes in ------------------------------------------------------------------------
  const evseTopic = new RegExp(`^${escapeRegExp(prefix)}/evse/([1-9][0-9]*)/(?:cmd/([^/]+)|control/set|control/([^/]+)/set)$`);

  function reply(resultTopic: string, packet: IPublishPacket, body: unknown): void {
    const props = packet.properties ?? {};
    const properties = v5 && props.correlationData ? { correlationData: props.correlationData } : undefined;
    const payload = json(body);
    outbox.putOrdered({ topic: resultTopic, payload, retain: false, qos: 1, properties });
    const responseTopic = v5 ? props.responseTopic : undefined;
    if (responseTopic && responseTopic !== resultTopic && !/[+#]/.test(responseTopic)) {
      outbox.putOrdered({ topic: responseTopic, payload, retain: false, qos: 1, properties });
    }
    schedule();
  }

  const errorBody = (err: unknown) => {
    if (err instanceof ApiError) return err.body();
    log(`ERROR MQTT: ${(err as Error).stack ?? err}`);
    return { error: "internal_error", message: "internal error", details: [] };
  };

  function onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    stats.received++;
    if (topic === haStatus) {
      if (payload.toString().trim() === "online" && ha.enabled) announce();
      return;
    }
    if (topic.startsWith(`${ha.discovery_prefix}/`) && topic.endsWith("/config")) {
      clearIfStale(topic, payload);
      return;
    }
    const m = evseTopic.exec(topic);
    if (!m) return;
    if (packet.retain) {
      // A retained message replayed by the broker at subscribe time (a live message arrives with
      // the flag cleared): acting on it would repeat an old command, or undo a newer setting, on
      // every reconnect — a broker restart would change what the charger does.
      log(`WARNING MQTT: ignoring the retained message on ${topic}: commands and control values act once, when published: publish them without retain`);
      return;
    }
    const [, index, command, field] = m;
    const e = byIndex.get(Number(index));
    if (!e) {
      // As HTTP answers …/evses/{i}/… for an index that is not configured.
      reply(command !== undefined ? `${topic}/result` : `${prefix}/evse/${index}/control/result`, packet, unknownEvse(index!, deps.evses.length).body());
      return;
    }
    if (command !== undefined) {
      const resultTopic = `${topic}/result`;
      let body: unknown;
      try {
        body = decodeJsonBytes(payload);
      } catch (err) {
        reply(resultTopic, packet, errorBody(err));
        return;
      }
      e.command(command, body).then(
        (answer) => reply(resultTopic, packet, answer.body),
        (err) => reply(resultTopic, packet, errorBody(err)),
      );
      return;
    }
    const resultTopic = `${prefix}/evse/${e.index}/control/result`;
    let body: Record<string, unknown> | unknown;
    try {
      if (field === undefined) body = decodeJsonBytes(payload);
      else if (isControlField(field)) body = controlBodyOf(field, payload.toString());
      else throw new ApiError(404, "not_found", `"${field}" is not a control field (enabled, max_current_A, phases)`);
    } catch (err) {
      reply(resultTopic, packet, errorBody(err));
      return;
    }
    e.control(body).then(
      (summary) => {
        reply(resultTopic, packet, { result: { evse: e.index, ...summary } });
        dirty.add(e.index);
        schedule();
      },
      (err) => {
        const b = errorBody(err);
        log(`MQTT: ${topic} refused: ${(b as { message: string }).message}`);
        reply(resultTopic, packet, b);
      },
    );
  }

  /** A config under our node_id that we do not announce now (an EVSE or entity removed from the
   *  configuration, or discovery switched off) is cleared with an empty retained message. */
  function clearIfStale(topic: string, payload: Buffer): void {
    if (payload.length === 0 || announced.has(topic)) return;
    const parts = topic.split("/");
    if (parts.length < 4 || parts[parts.length - 3] !== nodeId) return;
    const index = evseIndexOfObjectId(parts[parts.length - 2]!);
    if (index === null) return;
    const e = byIndex.get(index);
    if (e && ha.enabled && e.publications.values().hw_capabilities == null) {
      // Which entities an EVSE has (the phase select) depends on its board's capabilities: decide
      // when they are known, instead of clearing an entity only to announce it again.
      undecided.add(topic);
      return;
    }
    log(`MQTT: clearing Home Assistant discovery config ${topic} (evse ${index}${byIndex.has(index) ? "" : " is no longer configured"})`);
    outbox.putLatest(state(topic, ""));
    schedule();
  }

  // ---- the connection -----------------------------------------------------------------------
  let backoff = BACKOFF_MIN_MS;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let lastError = "";
  let stopped = false;

  const clientOptions = (): IClientOptions => ({
    protocolVersion: config.protocol_version,
    clientId: config.client_id ?? `${nodeId}_${crypto.randomUUID().slice(0, 8)}`,
    username: config.username,
    password: config.password,
    ca: deps.ca,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 15,
    will: { topic: availability, payload: Buffer.from("offline"), retain: true, qos: 1 },
  });

  function connect(): void {
    retryTimer = null;
    if (stopped) return;
    const gen = ++generation;
    let c: MqttClient;
    try {
      c = mqtt.connect(config.url, clientOptions());
    } catch (err) {
      // e.g. a CA file that is not a certificate: said once per change, retried like an outage.
      stats.last_error = (err as Error).message;
      if ((err as Error).message !== lastError) log(`WARNING MQTT: ${redact(config.url)}: ${(lastError = (err as Error).message)}`);
      retryTimer = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      return;
    }
    client = c;
    c.on("connect", (connack) => {
      if (gen !== generation) return;
      connected = stats.connected = true;
      backoff = BACKOFF_MIN_MS;
      lastError = "";
      stats.last_error = null;
      const receiveMaximum = connack.properties?.receiveMaximum;
      inflightLimit = Math.max(1, Math.min(INFLIGHT_MAX, receiveMaximum ?? INFLIGHT_MAX));
      log(`MQTT: connected to ${redact(config.url)} (MQTT ${v5 ? "5" : "3.1.1"}), topic prefix ${prefix}`);
      c.publish(availability, "online", { qos: 1, retain: true });
      const topics = [`${prefix}/evse/+/cmd/+`, `${prefix}/evse/+/control/set`, `${prefix}/evse/+/control/+/set`, haStatus, discoveryScan];
      c.subscribe(topics, { qos: 1 }, (err) => {
        if (err && gen === generation) log(`WARNING MQTT: subscribe failed: ${err.message}`);
      });
      republishAll();
      schedule();
    });
    c.on("message", (topic, payload, packet) => {
      if (gen === generation) onMessage(topic, payload, packet);
    });
    c.on("error", (err) => {
      if (gen !== generation) return;
      stats.last_error = err.message;
      if (err.message === lastError) return;
      lastError = err.message;
      log(`WARNING MQTT: ${redact(config.url)}: ${err.message}`);
    });
    c.on("close", () => {
      if (gen !== generation) return;
      generation++;
      const wasConnected = connected;
      connected = stats.connected = false;
      outbox.requeue([...inflight.values()]);
      inflight.clear();
      c.end(true);
      if (stopped) return;
      if (wasConnected) {
        stats.last_error ??= "connection lost";
        log(`WARNING MQTT: connection to ${redact(config.url)} lost; reconnecting`);
      }
      retryTimer = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    });
  }

  for (const e of deps.evses) e.publications.onPublish((p) => onPublication(e, p));
  const pollTimer = setInterval(() => {
    for (const e of deps.evses) dirty.add(e.index);
    schedule();
  }, CHANGE_POLL_MS);
  const intervalTimer = setInterval(() => {
    for (const e of deps.evses) refresh(e, true);
    schedule();
  }, config.status_interval_s * 1000);
  pollTimer.unref?.();
  intervalTimer.unref?.();
  connect();

  return {
    prefix,
    broker: brokerOf(config.url),
    stats: () => ({ ...stats, dropped: { ...stats.dropped }, queued: outbox.size + inflight.size }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(pollTimer);
      clearInterval(intervalTimer);
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      if (!c) return;
      const bye = async () => {
        // What the shutdown itself published (the kernel's last events) goes out first.
        for (let waited = 0; connected && outbox.size + inflight.size > 0 && waited < STOP_TIMEOUT_MS; waited += 10) {
          pump();
          await Bun.sleep(10);
        }
        if (connected) await c.publishAsync(availability, "offline", { qos: 1, retain: true });
        await c.endAsync();
      };
      await Promise.race([bye().catch(() => {}), Bun.sleep(2 * STOP_TIMEOUT_MS)]);
      generation++;
      c.end(true);
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const DEFAULT_PORTS: Record<string, string> = { "mqtt:": "1883", "mqtts:": "8883", "tcp:": "1883", "ssl:": "8883", "tls:": "8883", "ws:": "80", "wss:": "443" };

/** scheme://host:port of the broker URL: no user, password, path or query. */
export function brokerOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || DEFAULT_PORTS[u.protocol] || "1883"}`;
  } catch {
    return "(invalid URL)";
  }
}

/** The broker URL without a password that someone may have put into it. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}
