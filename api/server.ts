// Serves a fetch handler (the Hono app) with Bun.serve. Since Bun 1.4.5 a full socket makes a
// `type: "direct"` stream's write() return a promise, so the event stream (routes/events.ts) has
// real back-pressure and Bun.serve is fit for it. What Bun.serve does not do for us, done here:
// - Request target (http-api.md): Bun builds `request.url` from the Host header and the request
//   line. A Host that is not a plain host[:port] could move the path (`Host: x/api/…?`), so it is
//   refused with a 400 before any route sees the request; the path then comes from the request
//   line alone (an absolute-form target is reduced to its path by Bun, never routed by its host).
// - Request bodies: Bun's own limit answers 413 without the contract's body, so it is set out of
//   the way and the routes limit what they read (body.ts: 64 KiB; the update route: its maximum).
//   A body the handler did not read to the end, or one sent with a refusal (401, 413, …), ends
//   the connection: the server stops reading it instead of buffering or draining it.
export type FetchHandler = (req: Request) => Response | Promise<Response>;

export interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * A connection that neither sends nor receives for this long is closed. Bun's idle timer is not
 * reset by what a streamed response writes, so an event stream has none (an event stream's
 * lifetime is its reader's: see routes/events.ts).
 */
export const IDLE_TIMEOUT_S = 60;

// reg-name (unreserved characters only), IPv4, or a bracketed IPv6 literal; optional port.
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;
// A `%` must start a %XX escape; anything else in the target is malformed.
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
// Requests that may answer with an event stream (checked on the answer's content type).
const EVENTS = /\/events(?:\?|$)/;

function badRequest(error: string, message: string): Response {
  return Response.json({ error, message, details: [] }, { status: 400, headers: { connection: "close" } });
}

/** A 400 for a malformed Host or target, the request to route otherwise. */
export function checkTarget(req: Request): Response | Request {
  const host = req.headers.get("host");
  if (host === null) {
    // HTTP/1.0 without Host (Bun refuses a 1.1 request without one): Bun's url is the bare
    // target, which the router cannot take. Give it a host that can never mean anything else.
    if (!req.url.startsWith("/")) return badRequest("invalid_target", "the request target must be an absolute path");
    return new Request(`http://localhost${req.url}`, req);
  }
  const m = HOST.exec(host);
  if (m === null || (m[1] !== undefined && Number(m[1]) > 65535)) {
    return badRequest("invalid_host", `Host header "${host.slice(0, 100)}" is not a host[:port]`);
  }
  // Bun normalizes the host in `url` (a default port :80 dropped, `[0:0::1]` → `[::1]`, `127.1` →
  // `127.0.0.1`), so the authority is not compared with the header; the header passed HOST, which
  // allows no `/`, `?`, `#` or `@`, so everything from the first `/` after it is the request line's.
  const url = req.url;
  const prefix = url.startsWith("http://") ? url.indexOf("/", 7) : -1;
  if (prefix < 0) return badRequest("invalid_target", "the request target must be an absolute path");
  if (url.includes("%", prefix) && BAD_ESCAPE.test(url.slice(prefix))) {
    return badRequest("invalid_target", "the request target has a malformed %-escape");
  }
  return req;
}

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  return (length !== null && length !== "0") || req.headers.has("transfer-encoding");
}

function isEventStream(res: Response): boolean {
  return res.headers.get("content-type")?.startsWith("text/event-stream") === true;
}

async function closeIfBodyLeft(req: Request, pending: Response | Promise<Response>): Promise<Response> {
  const res = await pending;
  if (!req.bodyUsed || res.status >= 400) {
    try {
      res.headers.set("connection", "close");
    } catch {
      // immutable headers: Bun ends the request anyway once the response is sent
    }
  }
  return res;
}

export async function serve(handler: FetchHandler, options: { hostname: string; port: number; idleTimeoutS?: number }): Promise<RunningServer> {
  const untimed = async (req: Request, pending: Response | Promise<Response>): Promise<Response> => {
    const res = await pending;
    if (isEventStream(res)) server.timeout(req, 0);
    return res;
  };
  const server: Bun.Server<undefined> = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    idleTimeout: options.idleTimeoutS ?? IDLE_TIMEOUT_S,
    // The routes enforce their own limits with the contract's 413 (see the header comment).
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch(req) {
      const checked = checkTarget(req);
      if (checked instanceof Response) return checked;
      if (req.method === "GET" && EVENTS.test(checked.url)) return untimed(req, handler(checked));
      if (req.method === "GET" || req.method === "HEAD" || !hasBody(checked)) return handler(checked);
      return closeIfBodyLeft(checked, handler(checked));
    },
    error(err) {
      // Anything thrown past the app's onError is our fault, never the caller's.
      console.error(err);
      return Response.json({ error: "internal_error", message: "internal error", details: [] }, { status: 500 });
    },
  });
  return { port: server.port as number, stop: () => server.stop(true) };
}
