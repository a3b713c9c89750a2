// The program's stdout log: one line per session event (from the publication log), per line the
// kernel logs (EvseState changes, errors raised and cleared) and per write request (commands,
// enforce_limits, the simulated car) with its answer, each tagged with the EVSE index and the
// session uuid. Text by default; `--log-format json` writes one JSON object per line.
import type { MiddlewareHandler } from "hono";
import { bodyBytesOf } from "./body.ts";
import type { Publication } from "./publications.ts";

export type LogFormat = "text" | "json";

export interface EvseLogger {
  /** KernelDeps.log */
  log(line: string): void;
  /** Feed every publication; session events are logged and tracked for the session uuid. */
  publication(p: Publication): void;
  /** A write request and what it answered. */
  write(fields: WriteFields): void;
}

export interface WriteFields {
  method: string;
  path: string;
  status: number;
  /** The request body as sent (truncated), absent when there was none. */
  args?: string;
  /** The response body (truncated): `{"result":…}` or the error. */
  answer: string;
}

export interface Logger {
  forEvse(index: number): EvseLogger;
  /** Process-level lines (start-up, shutdown). */
  info(msg: string, fields?: Record<string, unknown>): void;
}

/** Lines go out through console.log, which writes each line to fd 1 at once and in order, like
 *  process.stdout; that stream would load node:stream, about 18 ms of start-up and 6 MB. */
export function createLogger(
  format: LogFormat,
  write: (line: string) => void = (line) => console.log(line),
  now: () => number = Date.now,
): Logger {
  const perEvse = new Map<number, EvseLogger>();
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
      // One logger per EVSE, whoever asks: the session uuid it tracks must be shared.
      const known = perEvse.get(index);
      if (known) return known;
      let session: string | null = null;
      const evseLogger: EvseLogger = {
        log: (line) => emit(line, { evse: index, session }),
        write: (f) =>
          format === "json"
            ? emit("write", { evse: index, session, ...f })
            : emit(`write ${f.method} ${f.path}${f.args !== undefined ? ` ${f.args}` : ""} -> ${f.status} ${f.answer}`, { evse: index, session }),
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
      perEvse.set(index, evseLogger);
      return evseLogger;
    },
  };
}

/** Longest request or response body a write line repeats. */
const MAX_LOGGED_BODY = 1000;

const clip = (text: string) => (text.length > MAX_LOGGED_BODY ? `${text.slice(0, MAX_LOGGED_BODY)}…` : text);

/** Logs every request under /api/v1/evses/{i}/ that is not a read, after it is answered. */
export function writeLog(logger: Logger, evses: readonly { index: number }[]): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return;
    const m = /^\/api\/v1\/evses\/(\d+)\//.exec(c.req.path);
    if (!m) return;
    // The body the handler read (body.ts): never read here, so the 413 check stays first.
    const bytes = bodyBytesOf(c.req.raw);
    let args: string | undefined;
    if (bytes) {
      const text = new TextDecoder().decode(bytes).trim();
      if (text !== "") args = clip(text.replace(/\s*\n\s*/g, " "));
    }
    let answer = "";
    if (!(c.res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      answer = clip((await c.res.clone().text()).trim());
    }
    const fields: WriteFields = { method: c.req.method, path: c.req.path, status: c.res.status, ...(args !== undefined ? { args } : {}), answer };
    const index = Number(m[1]);
    // An index that is no EVSE gets no per-EVSE logger: a scanner must not grow the map.
    if (evses.some((e) => e.index === index)) logger.forEvse(index).write(fields);
    else logger.info("write", { ...fields });
  };
}
