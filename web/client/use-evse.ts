// Everything one EVSE panel shows, kept live: the variables and session events from the event
// stream, the simulated board (polled; absent on a real board) and the active errors (polled,
// errors are not variables and so are not on the stream).
import { useEffect, useReducer, useState } from "preact/hooks";
import { api, evsePath } from "./api.ts";
import { followEvents, type StreamMessage } from "./event-stream.ts";
import { applySessionEvent, initialStatus, type EvseStatus, type SessionEvent } from "./session-status.ts";

export interface SimState {
  cp_state: string;
  pwm_duty_percent: number | null;
  relays_closed: boolean;
  phases: number;
  locked: boolean;
  rcd_current_mA: number;
  meter: { energy_Wh_import: number; power_W: number; current_A: Record<string, number>; voltage_V: Record<string, number> };
  car: { running: boolean; script: string | null; state: string };
}

export interface ActiveError {
  type: string;
  sub_type?: string;
  message: string;
  severity: string;
  timestamp?: string;
}

export interface LogEntry {
  id: number;
  event: SessionEvent;
}

interface StreamState {
  vars: Record<string, unknown>;
  status: EvseStatus;
  log: LogEntry[];
}

const LOG_LIMIT = 300;
const emptyStream: StreamState = { vars: {}, status: initialStatus, log: [] };

function reduce(state: StreamState, batch: { message: StreamMessage; fresh: boolean }[]): StreamState {
  let next = state;
  for (const { message, fresh } of batch) {
    if (fresh) next = emptyStream;
    const vars = { ...next.vars, [message.event]: message.data };
    if (message.event !== "session_event") {
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
    next = { vars, status: applySessionEvent(next.status, ev), log };
  }
  return next;
}

export interface EvseLive extends StreamState {
  connected: boolean;
  /** undefined while unknown, null on a real board. */
  sim: SimState | null | undefined;
  errors: ActiveError[];
  refresh(): void;
}

export function useEvse(index: number): EvseLive {
  const [stream, dispatch] = useReducer(reduce, emptyStream);
  const [connected, setConnected] = useState(false);
  const [sim, setSim] = useState<SimState | null | undefined>(undefined);
  const [errors, setErrors] = useState<ActiveError[]>([]);
  const [tick, setTick] = useState(0);

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
      evsePath(index, "events"),
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
  }, [index]);

  useEffect(() => {
    let stopped = false;
    let simulated = true;
    const poll = async () => {
      const [simResult, errorsResult] = await Promise.allSettled([
        simulated ? api<SimState>(evsePath(index, "sim")) : Promise.resolve(null),
        api<ActiveError[]>(evsePath(index, "errors")),
      ]);
      if (stopped) return;
      if (simResult.status === "fulfilled") setSim(simResult.value);
      else if ((simResult.reason as { status?: number }).status === 409) {
        simulated = false;
        setSim(null);
      }
      if (errorsResult.status === "fulfilled") setErrors(errorsResult.value);
    };
    void poll();
    const timer = setInterval(poll, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
    // A new session event usually means the board changed too: look now, not at the next tick.
  }, [index, tick, stream.log[0]?.id]);

  return { ...stream, connected, sim, errors, refresh: () => setTick((t) => t + 1) };
}
