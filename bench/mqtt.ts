// `mqtt` part of the benchmarks: the MQTT bridge (mqtt/) publishing to a local Mosquitto.
//   - events_per_s: session events the bridge sustains (each is two QoS 1 messages: …/event and
//     …/var/session_event), counted until an independent subscriber has received every one;
//   - delay_ms: a session event's publication in the kernel's log → its message at the subscriber
//     (p50/p99), one event every 20 ms;
//   - rt_reaction_us: the real-time worker's reaction (the same measurement as bench/run.ts) while
//     the bridge publishes as fast as it can on the main thread.
// Standalone: `bun bench/mqtt.ts` prints one JSON line; bench/run.ts can call measureMqtt().
import mqtt from "mqtt";
import { PublicationLog } from "../api/publications.ts";
import { startMqttBridge, type BridgeEvse } from "../mqtt/index.ts";
import { parseConfig } from "../core/config/index.ts";
import { startBoard } from "../rt-worker/index.ts";
import { spawnThread } from "../rt-worker/prespawn.ts";
import { simulatedBoards } from "../sim/board/boards.ts";
import type { BoardHost } from "../rt-worker/host.ts";
import { startMosquitto } from "../test/helpers/mosquitto.ts";

type Quantiles = { p50: number; p99: number; max: number; n: number };

export interface MqttBench {
  events_per_s: number;
  messages_per_s: number;
  delay_ms: { p50: number; p99: number; max: number; n: number };
  /** Without MQTT traffic, then while the bridge publishes flat out: same process, same moment. */
  rt_reaction_us: { idle: Quantiles; mqtt_load: Quantiles } | null;
  dropped: Record<string, number>;
}

const THROUGHPUT_EVENTS = Number(process.env.BENCH_MQTT_EVENTS ?? 20_000);
const DELAY_SAMPLES = Number(process.env.BENCH_MQTT_DELAY_SAMPLES ?? 500);
const RT_SAMPLES = Number(process.env.BENCH_MQTT_RT_SAMPLES ?? 3000);
/** Stay below the bridge's 10,000-message event queue: the benchmark measures rate, not loss. */
const BURST = 2000;

function quantiles(values: number[], digits: number) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  const r = (x: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? NaN), n: s.length };
}

const now = () => performance.timeOrigin + performance.now();

function sessionEvent(n: number) {
  return { uuid: "bench", event: "ChargingStarted", timestamp: new Date().toISOString(), connector_id: 1, n, t: now() };
}

export async function measureMqtt(log: (line: string) => void = () => {}): Promise<MqttBench> {
  const broker = await startMosquitto();
  const publications = new PublicationLog();
  const evse: BridgeEvse = {
    index: 1,
    evseId: "BENCH",
    publications,
    errors: () => [],
    status: () => ({ state: "Charging" }),
    control: async () => ({}),
    command: async () => ({ status: 200, body: { result: null } }),
    canSwitchPhases: () => false,
    maxCurrentA: () => 32,
  };
  const config = parseConfig({ mqtt: { url: broker.url, username: broker.username, password: broker.password, topic_prefix: "bench", homeassistant: { enabled: false } } }, "<bench>").mqtt;
  const bridge = startMqttBridge({ ...config, url: broker.url }, { evses: [evse], log, version: "bench", hostname: "bench" });
  const sub = await mqtt.connectAsync(broker.url, { username: broker.username, password: broker.password, protocolVersion: 5 });
  let received = 0;
  const delays: number[] = [];
  let onEvent: (() => void) | null = null;
  sub.on("message", (_topic, payload) => {
    const t = now();
    received++;
    delays.push(t - (JSON.parse(payload.toString()) as { t: number }).t);
    onEvent?.();
  });
  await sub.subscribeAsync("bench/evse/1/event", { qos: 1 });
  const waitFor = (count: number) =>
    new Promise<void>((resolve) => {
      if (received >= count) return resolve();
      onEvent = () => {
        if (received >= count) {
          onEvent = null;
          resolve();
        }
      };
    });
  for (let k = 0; k < 100 && !bridge.stats().connected; k++) await Bun.sleep(20);

  try {
    // 1. throughput, in bursts the queue can hold
    const t0 = now();
    for (let sent = 0; sent < THROUGHPUT_EVENTS; ) {
      const n = Math.min(BURST, THROUGHPUT_EVENTS - sent);
      for (let k = 0; k < n; k++) publications.publish("session_event", sessionEvent(sent + k));
      sent += n;
      await waitFor(sent);
    }
    const seconds = (now() - t0) / 1000;
    const events_per_s = Math.round(THROUGHPUT_EVENTS / seconds);
    log(`mqtt events_per_s ${events_per_s}`);

    // 2. delay, one event at a time
    delays.length = 0;
    const base = received;
    for (let k = 0; k < DELAY_SAMPLES; k++) {
      publications.publish("session_event", sessionEvent(k));
      await waitFor(base + k + 1);
      await Bun.sleep(20);
    }
    const delay_ms = quantiles(delays, 2);
    log(`mqtt delay_ms ${JSON.stringify(delay_ms)}`);

    // 3. the real-time worker's reaction while the bridge publishes flat out
    let rt_reaction_us: MqttBench["rt_reaction_us"] = null;
    if (RT_SAMPLES > 0) {
      const board = (await startBoard({ kind: "sim", index: 1, sim: { seed: 1 } as never }, { simBench: true, simulator: simulatedBoards(() => spawnThread("sim-board", 0)) })) as BoardHost;
      board.onInput(() => {});
      board.port.pwm_on(50);
      board.port.allow_power_on({ allow_power_on: true, reason: "FullPowerCharging" });
      await Bun.sleep(300);
      await board.bench({ samples: 500, timeoutMs: 30_000 }); // warm-up, not counted
      const idle = quantiles([...(await board.bench({ samples: RT_SAMPLES, timeoutMs: 120_000 }))], 1);
      let publishing = true;
      const load = (async () => {
        let n = 0;
        while (publishing) {
          const target = received + BURST;
          for (let k = 0; k < BURST; k++) publications.publish("session_event", sessionEvent(n++));
          await waitFor(target);
        }
      })();
      try {
        const us = await board.bench({ samples: RT_SAMPLES, timeoutMs: 120_000 });
        rt_reaction_us = { idle, mqtt_load: quantiles([...us], 1) };
      } finally {
        publishing = false;
        await load;
        await board.stop();
      }
      log(`mqtt rt_reaction_us ${JSON.stringify(rt_reaction_us)}`);
    }
    return { events_per_s, messages_per_s: events_per_s * 2, delay_ms, rt_reaction_us, dropped: bridge.stats().dropped };
  } finally {
    await sub.endAsync(true).catch(() => {});
    await bridge.stop();
    await broker.stop();
  }
}

if (import.meta.main) {
  const result = await measureMqtt((line) => process.stdout.write(line + "\n"));
  process.stdout.write(JSON.stringify({ mqtt: result }) + "\n");
  process.exit(0);
}
