// Everything one EVSE view shows, kept live: the variables, session events and active errors from
// the event stream (filtered with ?types= to what the view needs), and the simulated board
// (polled; absent on a real board).
import { useEffect, useReducer, useState } from "preact/hooks";
import { api, evsePath } from "./api.ts";
import { followEvents, type StreamMessage } from "./event-stream.ts";
export { DETAIL_TYPES, OVERVIEW_TYPES } from "./stream-types.ts";
import { applySessionEvent, initialStatus, type EvseStatus, type SessionEvent } from "./session-status.ts";

// The API's own types: what GET …/sim and GET …/errors answer (type-only: nothing of the server is bundled).
export type { SimState } from "../../board-protocol/simulator.ts";
export type { ActiveError } from "../../core/kernel-api.ts";
import type { SimState } from "../../board-protocol/simulator.ts";
import type { ActiveError } from "../../core/kernel-api.ts";

export interface LogEntry {
  id: number;
  event: SessionEvent;
}

interface StreamState {
  vars: Record<string, unknown>;
  status: EvseStatus;
  log: LogEntry[];
  /** null until the stream has sent the list. */
  errors: ActiveError[] | null;
}

const LOG_LIMIT = 300;
const emptyStream: StreamState = { vars: {}, status: initialStatus, log: [], errors: null };


function reduce(state: StreamState, batch: { message: StreamMessage; fresh: boolean }[]): StreamState {
  let next = state;
  for (const { message, fresh } of batch) {
    if (fresh) next = { ...emptyStream, errors: next.errors };
    if (message.event === "errors") {
      next = { ...next, errors: Array.isArray(message.data) ? (message.data as ActiveError[]) : [] };
      continue;
    }
    const vars = { ...next.vars, [message.event]: message.data };
    if (message.event !== "session_event" || message.id === null) {
      next = { ...next, vars };
      continue;
    }
    const ev = message.data as SessionEvent;
    // A snapshot repeats the last event with its old id: it is not a new line in the log.
    if (next.log.length > 0 && next.log[0]!.id >= message.id) {
      next = { ...next, vars };
      continue;
    }
    const log = [{ id: message.id, event: ev }, ...next.log].slice(0, LOG_LIMIT);
    next = { ...next, vars, status: applySessionEvent(next.status, ev), log };
  }
  return next;
}

export interface EvseLive extends Omit<StreamState, "errors"> {
  connected: boolean;
  /** undefined while unknown, null on a real board. */
  sim: SimState | null | undefined;
  errors: ActiveError[];
  /** False until the stream has delivered its first messages (the page says "Loading…", not "unreachable"). */
  loaded: boolean;
}

/** `types`: the stream filter, variable names and `errors`. */
export function useEvse(index: number, types: readonly string[]): EvseLive {
  const [stream, dispatch] = useReducer(reduce, emptyStream);
  const [connected, setConnected] = useState(false);
  const [sim, setSim] = useState<SimState | null | undefined>(undefined);
  const key = types.join(",");

  useEffect(() => {
    const abort = new AbortController();
    // Replays arrive as hundreds of messages at once: one state update per animation frame.
    let pending: { message: StreamMessage; fresh: boolean }[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = [];
      dispatch(batch);
    };
    void followEvents(
      `${evsePath(index, "events")}?types=${key}`,
      {
        onMessage(message, fresh) {
          pending.push({ message, fresh });
          if (frame === 0) frame = requestAnimationFrame(flush);
        },
        onStatus: setConnected,
      },
      abort.signal,
    );
    return () => {
      abort.abort();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, [index, key]);

  useEffect(() => {
    let stopped = false;
    let simulated = true;
    const poll = async () => {
      if (!simulated) return;
      try {
        const s = await api<SimState>(evsePath(index, "sim"));
        if (!stopped) setSim(s);
      } catch (err) {
        if (!stopped && (err as { status?: number }).status === 409) {
          simulated = false;
          setSim(null);
        }
      }
    };
    void poll();
    const timer = setInterval(poll, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
    // A new session event usually means the board changed too: look now, not at the next tick.
  }, [index, stream.log[0]?.id]);

  return { vars: stream.vars, status: stream.status, log: stream.log, errors: stream.errors ?? [], connected, sim, loaded: stream.errors !== null };
}
