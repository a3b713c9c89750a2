// Serves a fetch handler (the Hono app) over node:http. Bun.serve would be the obvious choice, but
// it reads a streamed response as fast as it can and buffers whatever the client has not taken:
// a stalled event-stream reader would then grow memory without bound and never look "slow". With
// node:http a full socket makes write() return false; we stop reading the stream until 'drain',
// so unsent messages stay in the subscriber's own bounded queue (closed at 10,000).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { MAX_BODY_BYTES } from "./body.ts";

/** Routes that read their (large) body as a stream instead of the buffered, 64 KiB-limited one. */
const STREAMED_BODY_PATHS = new Set(["/api/v1/system/update"]);

export type FetchHandler = (req: Request) => Response | Promise<Response>;

export interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

/** Request bodies are kept only up to one byte past the limit: enough for the 413, no more. */
function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    req.on("data", (chunk: Buffer) => {
      if (kept > MAX_BODY_BYTES) return;
      chunks.push(chunk);
      kept += chunk.length;
    });
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

async function toRequest(req: IncomingMessage, res: ServerResponse): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  const method = req.method ?? "GET";
  const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  // An update (a whole binary) streams through to its route, which limits and stores it itself.
  if (method === "POST" && STREAMED_BODY_PATHS.has(new URL(url).pathname)) {
    return new Request(url, { method, headers, body: Readable.toWeb(req) as ReadableStream, duplex: "half", signal: abort.signal } as RequestInit);
  }
  const body = method === "GET" || method === "HEAD" ? undefined : await readBody(req);
  return new Request(url, {
    method,
    headers,
    body: body && body.byteLength > 0 ? body : undefined,
    signal: abort.signal,
  });
}

async function pipeStream(body: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = body.getReader();
  const socketClosed = new Promise<"closed">((resolve) => res.once("close", () => resolve("closed")));
  const streamEnded = reader.closed.then(
    () => "ended" as const,
    () => "ended" as const,
  );
  res.flushHeaders();
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), socketClosed]);
      if (next === "closed" || next.done) break;
      if (!res.write(next.value)) {
        const drained = new Promise<"drain">((resolve) => res.once("drain", () => resolve("drain")));
        // The stream may be closed from its side while we wait (a reader that fell too far behind).
        const outcome = await Promise.race([drained, socketClosed, streamEnded]);
        if (outcome !== "drain") {
          res.destroy();
          return;
        }
      }
    }
    res.end();
  } finally {
    reader.cancel().catch(() => {});
  }
}

async function respond(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const response = await handler(await toRequest(req, res));
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  if (!response.body || req.method === "HEAD") {
    res.end();
    return;
  }
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    await pipeStream(response.body, res);
    return;
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  res.setHeader("content-length", bytes.length);
  res.end(bytes);
}

export function serveNode(handler: FetchHandler, options: { hostname: string; port: number }): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    respond(handler, req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ error: "internal_error", message: "internal error", details: [] }));
      } else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        stop: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
