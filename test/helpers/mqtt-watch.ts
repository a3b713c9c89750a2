// An independent MQTT client for tests (mqtt.js): records every message it receives with its
// retain flag and MQTT 5 properties, and waits for the ones a test expects.
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from "mqtt";
import { readFileSync } from "node:fs";
import type { Broker } from "./mosquitto.ts";

export interface Received {
  topic: string;
  text: string;
  /** JSON.parse(text), or undefined when it is not JSON. */
  json: any;
  /** With MQTT 5 the flag as published (retain-as-published), also for live messages. */
  retain: boolean;
  qos: number;
  correlationData?: Buffer;
  at: number;
}

export interface Watcher {
  client: MqttClient;
  messages: Received[];
  on(topic: string): Received[];
  waitFor(pred: (m: Received) => boolean, timeoutMs?: number, what?: string): Promise<Received>;
  publish(topic: string, payload: string | Buffer, options?: IClientPublishOptions): Promise<void>;
  close(): Promise<void>;
}

export async function watch(broker: Broker, topics: string[], options: IClientOptions = {}): Promise<Watcher> {
  const client = await mqtt.connectAsync(broker.url, {
    username: broker.username,
    password: broker.password,
    ca: broker.caFile ? readFileSync(broker.caFile) : undefined,
    protocolVersion: 5,
    reconnectPeriod: 0,
    ...options,
  });
  const messages: Received[] = [];
  const waiters: { pred: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];
  client.on("message", (topic, payload, packet) => {
    const text = payload.toString();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const m: Received = { topic, text, json, retain: packet.retain, qos: packet.qos, correlationData: packet.properties?.correlationData, at: Date.now() };
    messages.push(m);
    for (let k = waiters.length - 1; k >= 0; k--) {
      if (waiters[k]!.pred(m)) {
        waiters[k]!.resolve(m);
        waiters.splice(k, 1);
      }
    }
  });
  // Retain-as-published (MQTT 5): a live message keeps the retain flag its publisher set.
  if (topics.length > 0) await client.subscribeAsync(topics, options.protocolVersion === 4 ? { qos: 1 } : { qos: 1, rap: true });
  return {
    client,
    messages,
    on: (topic) => messages.filter((m) => m.topic === topic),
    waitFor(pred, timeoutMs = 10_000, what = "a matching MQTT message") {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          pred,
          resolve: (m: Received) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          const seen = messages.slice(-15).map((m) => `${m.topic} ${m.text.slice(0, 80)}`);
          reject(new Error(`no ${what} within ${timeoutMs} ms; last seen:\n  ${seen.join("\n  ")}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async publish(topic, payload, opts = {}) {
      await client.publishAsync(topic, payload, { qos: 1, ...opts });
    },
    async close() {
      await client.endAsync(true).catch(() => {});
    },
  };
}
