// GET …/{i}/events: the publication log as server-sent events. The stream is a `type: "direct"`
// one: a message leaves the subscriber's queue only when the socket has room for the previous
// write (write() returns a promise while it is full), so a slow reader piles up in its own queue
// (closed at 10,000 by PublicationLog) and never slows the kernel or the other readers.
// The subscriber lives exactly as long as the connection: the client going away (cancel, the
// request's abort signal) closes it at once, and closing it ends the stream.
import * as v from "valibot";
import { ApiError } from "../errors.ts";
import { encodeExtra, parseStreamTypes, type Subscriber } from "../publications.ts";
import { route, type Route } from "../route.ts";

/** How often a stream that asked for `errors` compares the kernel's active errors with what it sent. */
export const ERRORS_POLL_MS = 250;

export const DEFAULT_KEEP_ALIVE_MS = 10_000;

const wires = (batch: readonly { wire: string }[]): string => {
  let text = "";
  for (const p of batch) text += p.wire;
  return text;
};

export function sseStream(sub: Subscriber, keepAliveMs: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "direct",
    async pull(controller) {
      // A first comment makes the server send the headers now, even with nothing to replay.
      let text = ": connected\n\n" + wires(sub.take());
      for (;;) {
        const written = controller.write(text);
        controller.flush();
        // The socket is full: wait for room, or for the subscriber to be closed meanwhile.
        if (typeof written !== "number" && !(await sub.whileWriting(written))) break;
        if (sub.closed) break;
        let batch = sub.take();
        if (batch.length === 0) {
          await sub.wait(keepAliveMs);
          if (sub.closed) break;
          batch = sub.take();
        }
        text = batch.length > 0 ? wires(batch) : ": keep-alive\n\n";
      }
      // Closed by the server (a reader too far behind): end the connection now, dropping what
      // the socket still holds, rather than wait for a reader that does not read. Rejecting
      // with no reason aborts the response without an error report.
      if (sub.reason !== null) throw undefined;
    },
    cancel() {
      sub.close();
    },
  } as Bun.DirectUnderlyingSource) as ReadableStream<Uint8Array>;
}

export const eventsRoutes: Route[] = [
  route({
    method: "GET",
    path: "/api/v1/evses/{i}/events",
    operationId: "streamEvents",
    summary: "Server-sent events: the snapshot (or the replay after Last-Event-ID), then every publication; event = variable name, data = its value; ?types= filters",
    auth: true,
    headers: [{ name: "Last-Event-ID", required: false, description: "Replay every message after this id instead of the snapshot", schema: v.string() }],
    query: {
      // Loose: other parameters are ignored. The list itself is checked by parseStreamTypes.
      schema: v.object({ types: v.optional(v.pipe(v.string(), v.examples(["session_event,errors"]))) }),
      descriptions: {
        types:
          "Comma-separated variable names to send (default: every variable), and `errors` for the active-error list: sent on connect and on every change, as `event: errors` without an id (not a publication, not replayed)",
      },
    },
    responses: {
      "200": { description: "Event stream", media: "text/event-stream", schema: v.string() },
      "400": { description: "types names something that is neither a variable nor errors (invalid_query, naming it)" },
    },
    handler: (ctx) => (c, { evse, query }) => {
      const types = parseStreamTypes(query().types);
      if (!types.ok) throw new ApiError(400, "invalid_query", types.message, [{ path: "types", message: types.message.replace(/^types: /, "") }]);
      const headers = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" };
      // HEAD gets the headers only: the server drops a HEAD answer's body without cancelling it, so
      // a stream opened here would keep its subscriber (and errors timer) for ever.
      if (c.req.method === "HEAD") return new Response(null, { headers });
      const sub = evse.publications.subscribe(c.req.header("last-event-id"), types.filter.variables);
      if (types.filter.errors) {
        // The kernel keeps its active errors as a list to query, not a publication: send the list on
        // connect (after the snapshot or replay) and whenever it differs from the last one sent.
        let sent = "";
        const check = () => {
          const errors = evse.kernel.errors();
          const text = JSON.stringify(errors);
          if (text !== sent) {
            sent = text;
            sub.push(encodeExtra("errors", errors));
          }
        };
        check();
        const timer = setInterval(check, ERRORS_POLL_MS);
        sub.onClose(() => clearInterval(timer));
      }
      c.req.raw.signal?.addEventListener("abort", () => sub.close(), { once: true });
      return new Response(sseStream(sub, ctx.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS), { headers });
    },
  }),
];
