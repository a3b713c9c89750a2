// Reads GET …/events with fetch() and a streaming reader rather than EventSource, because
// EventSource cannot send the Authorization header. Reconnects with Last-Event-ID, as the
// contract's replay buffer expects, and reports a restarted server (ids going back) so the
// caller can drop what it derived from the old process.
import { authHeaders, noteUnauthorized } from "./api.ts";

export interface StreamMessage {
  /** null for messages that are not publications (the `errors` list): they move no Last-Event-ID. */
  id: number | null;
  event: string;
  data: unknown;
}

export interface StreamCallbacks {
  /** `fresh` is true on the first message of a connection that did not continue the old ids. */
  onMessage(message: StreamMessage, fresh: boolean): void;
  onStatus(connected: boolean): void;
}

/** Runs until `signal` aborts. Starts with Last-Event-ID 0: the whole history since start. */
export async function followEvents(url: string, callbacks: StreamCallbacks, signal: AbortSignal): Promise<void> {
  let lastId = 0;
  while (!signal.aborted) {
    try {
      const res = await fetch(url, { headers: authHeaders({ "last-event-id": String(lastId) }), signal, cache: "no-store" });
      noteUnauthorized(res.status);
      if (res.status !== 200 || !res.body) throw new Error(`event stream answered ${res.status}`);
      callbacks.onStatus(true);
      let first = true;
      await readSse(res.body, (m) => {
        if (m.id === null) return callbacks.onMessage(m, false);
        const fresh = first && lastId > 0 && m.id <= lastId;
        first = false;
        lastId = m.id;
        callbacks.onMessage(m, fresh);
      });
    } catch {
      // aborted, refused or dropped: reconnect below unless the page is done with us
    }
    callbacks.onStatus(false);
    if (signal.aborted) return;
    await new Promise((r) => setTimeout(r, 1500));
  }
}

async function readSse(body: ReadableStream<Uint8Array>, deliver: (m: StreamMessage) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let id: number | null = null;
  let event = "message";
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      if (line === "") {
        if (data.length > 0) {
          const raw = data.join("\n");
          let parsed: unknown = raw;
          try {
            parsed = JSON.parse(raw);
          } catch {
            // not JSON: keep the text
          }
          deliver({ id, event, data: parsed });
        }
        event = "message";
        data = [];
        id = null;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = Number(val);
      else if (field === "event") event = val;
      else if (field === "data") data.push(val);
    }
  }
}
