// GET …/{i}/events: the publication log as server-sent events. The stream is pull-driven: a
// message leaves the subscriber's queue only when the socket takes it, so a slow reader piles up
// in its own queue (closed at 10,000 by PublicationLog) and never slows the kernel or others.
import { Hono } from "hono";
import { evseOf, methodNotAllowed, type ApiContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { encodeExtra, parseStreamTypes, type Subscriber } from "../publications.ts";

/** How often a stream that asked for `errors` compares the kernel's active errors with what it sent. */
export const ERRORS_POLL_MS = 250;

export const DEFAULT_KEEP_ALIVE_MS = 10_000;

const encoder = new TextEncoder();

export function sseStream(sub: Subscriber, keepAliveMs: number): ReadableStream<Uint8Array> {
  let opened = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // Closing from our side (overflow) must end the stream even while nobody is reading it.
        sub.onClose(() => {
          try {
            controller.close();
          } catch {
            // already closed or cancelled by the reader
          }
        });
      },
      async pull(controller) {
        // A first comment makes the server send the headers now, even with nothing to replay.
        if (!opened) {
          opened = true;
          const first = sub.take();
          controller.enqueue(encoder.encode(": connected\n\n" + first.map((p) => p.wire).join("")));
          return;
        }
        for (;;) {
          const batch = sub.take();
          if (batch.length > 0) {
            controller.enqueue(encoder.encode(batch.map((p) => p.wire).join("")));
            return;
          }
          if (sub.closed) return; // onClose has closed the stream
          await sub.wait(keepAliveMs);
          if (sub.unsent === 0 && !sub.closed) {
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
            return;
          }
        }
      },
      cancel() {
        sub.close();
      },
    },
    { highWaterMark: 0 },
  );
}

export function eventsRoutes(ctx: ApiContext): Hono {
  const r = new Hono();

  r.get("/:i/events", (c) => {
    const evse = evseOf(ctx, c);
    const types = parseStreamTypes(c.req.query("types"));
    if (!types.ok) throw new ApiError(400, "invalid_query", types.message, [{ path: "types", message: types.message.replace(/^types: /, "") }]);
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
    c.req.raw.signal?.addEventListener("abort", () => sub.close());
    return new Response(sseStream(sub, ctx.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  });
  r.all("/:i/events", methodNotAllowed(["GET"]));

  return r;
}
