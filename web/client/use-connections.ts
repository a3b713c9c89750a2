// The MQTT and OCPP connections (GET /api/v1/mqtt, /api/v1/ocpp and /api/v1/ocpp/connectors), each
// polled once for the whole page however many views read it: the header shows the badges, every
// EVSE view its connector's OCPP status. A route the server does not have (404: a build without
// it) is not asked again.
import { useEffect, useState } from "preact/hooks";
import { api, ApiRequestError } from "./api.ts";
import type { MqttConnection, OcppConnection, OcppConnector } from "./connection-words.ts";

const POLL_MS = 4000;

/** A value polled from one route while anyone listens. */
function sharedPoll<T>(load: () => Promise<T | null>) {
  let value: T | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  const listeners = new Set<(v: T | null) => void>();
  const poll = () =>
    load().then(
      (v) => {
        value = v;
        for (const l of listeners) l(v);
      },
      () => {},
    );
  return function use(): T | null {
    const [v, setV] = useState<T | null>(value);
    useEffect(() => {
      listeners.add(setV);
      if (timer === null) {
        void poll();
        timer = setInterval(poll, POLL_MS);
      }
      return () => {
        listeners.delete(setV);
        if (listeners.size === 0 && timer !== null) {
          clearInterval(timer);
          timer = null;
        }
      };
    }, []);
    return v;
  };
}

/** Answers null for a route this server lacks, and stops asking it. */
function unlessMissing<T>(path: string): () => Promise<T | null> {
  let missing = false;
  return async () => {
    if (missing) return null;
    try {
      return await api<T>(path);
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 404) missing = true;
      // 401: the page asks for the token; anything else: shown as unknown until the next poll.
      return null;
    }
  };
}

export const useMqtt = sharedPoll(unlessMissing<MqttConnection>("/api/v1/mqtt"));

const ocppVisibility = unlessMissing<OcppConnection>("/api/v1/ocpp");
const ocppConnectors = unlessMissing<OcppConnector[]>("/api/v1/ocpp/connectors");

export const useOcpp = sharedPoll<{ connection: OcppConnection; connectors: OcppConnector[] }>(async () => {
  const connection = await ocppVisibility();
  if (!connection?.configured) return null;
  return { connection, connectors: (await ocppConnectors()) ?? [] };
});

/** This EVSE's connector (the charge point's connector ids are the EVSE indexes). */
export function useOcppConnector(index: number): OcppConnector | undefined {
  return useOcpp()?.connectors.find((c) => c.connector_id === index);
}
