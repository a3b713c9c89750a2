// The program's stdout log: one line per session event (from the publication log) and per line
// the kernel logs (its state changes), each tagged with the EVSE index and the session uuid.
// Text by default; `--log-format json` writes one JSON object per line for log collectors.
import type { Publication } from "./publications.ts";

export type LogFormat = "text" | "json";

export interface EvseLogger {
  /** KernelDeps.log */
  log(line: string): void;
  /** Feed every publication; session events are logged and tracked for the session uuid. */
  publication(p: Publication): void;
}

export interface Logger {
  forEvse(index: number): EvseLogger;
  /** Process-level lines (start-up, shutdown). */
  info(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  format: LogFormat,
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
  now: () => number = Date.now,
): Logger {
  const emit = (msg: string, fields: Record<string, unknown>) => {
    const ts = new Date(now()).toISOString();
    if (format === "json") {
      write(JSON.stringify({ ts, ...fields, msg }));
      return;
    }
    const tags = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v === null ? "-" : typeof v === "string" ? v : JSON.stringify(v)}`);
    write([ts, ...tags, msg].join(" "));
  };

  return {
    info: (msg, fields = {}) => emit(msg, fields),
    forEvse(index) {
      let session: string | null = null;
      return {
        log: (line) => emit(line, { evse: index, session }),
        publication(p) {
          if (p.name !== "session_event") return;
          const ev = p.value as { event?: string; uuid?: string; transaction_finished?: { reason?: string } };
          if (ev.event === "SessionStarted" && ev.uuid) session = ev.uuid;
          const uuid = ev.uuid ? ev.uuid : session;
          const reason = ev.transaction_finished?.reason;
          emit(`session_event ${ev.event}${reason ? ` reason=${reason}` : ""}`, { evse: index, session: uuid, id: p.id });
          if (ev.event === "SessionFinished") session = null;
        },
      };
    },
  };
}
