// Reading a request body by the contract's rules, in its order: size (413) before anything is
// parsed, then the content type (415), then JSON (400). An empty body counts as {}.
// The same rules (minus the content type) read an MQTT command payload (mqtt/), so a bad body
// gets the same error from both.
import type { Context } from "hono";
import { ApiError, type ErrorDetail } from "./errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = () => new ApiError(413, "body_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`);

/** The bytes each request's body was read as, for the write log (log.ts). */
const bodies = new WeakMap<Request, Uint8Array>();

export function bodyBytesOf(req: Request): Uint8Array | undefined {
  return bodies.get(req);
}

/**
 * The body, read only up to one byte past the limit: a chunked body that goes over is a 413
 * after 64 KiB, never buffered whole. The rest stays unread (the server then ends the connection).
 */
async function readLimited(req: Request): Promise<Uint8Array> {
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

interface Node {
  value: unknown;
  parent: Node | null;
  key: string | number;
}

function pathOf(node: Node): string {
  let path = "";
  for (let n: Node | null = node; n !== null && n.parent !== null; n = n.parent) {
    path = typeof n.key === "number" ? `[${n.key}]${path}` : `${n.parent.parent === null ? "" : "."}${n.key}${path}`;
  }
  return path;
}

/**
 * The first number JSON.parse made non-finite (1e400 parses to Infinity), with its path. Walked
 * with an explicit stack: a body nested thousands deep must not exhaust the call stack.
 */
function nonFinite(body: unknown): ErrorDetail | null {
  const stack: Node[] = [{ value: body, parent: null, key: "" }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const value = node.value;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) return { path: pathOf(node), message: "number out of range: must be finite" };
    } else if (Array.isArray(value)) {
      for (let k = value.length - 1; k >= 0; k--) stack.push({ value: value[k], parent: node, key: k });
    } else if (typeof value === "object" && value !== null) {
      const keys = Object.keys(value);
      for (let k = keys.length - 1; k >= 0; k--) stack.push({ value: (value as Record<string, unknown>)[keys[k]!], parent: node, key: keys[k]! });
    }
  }
  return null;
}

export async function readJsonBody(c: Context): Promise<unknown> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  const bytes = await readLimited(c.req.raw);
  bodies.set(c.req.raw, bytes);
  if (bytes.byteLength === 0) return {};

  const type = c.req.header("content-type");
  if (type !== undefined && type.split(";")[0]!.trim().toLowerCase() !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", `body must be application/json, got "${type}"`);
  }
  return decodeJsonBytes(bytes);
}

/** Size, UTF-8 and JSON checks of a body that has no content type (an MQTT payload). */
export function decodeJsonBytes(bytes: Uint8Array): unknown {
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  if (bytes.byteLength === 0) return {};
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_json", "body is not valid UTF-8");
  }
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, "invalid_json", `body is not valid JSON: ${(err as Error).message}`);
  }
  // JSON has no Infinity, but JSON.parse turns a number too large for a double into one; it
  // must never reach the kernel (and be published as null).
  const bad = nonFinite(body);
  if (bad) throw new ApiError(400, "invalid_body", `${bad.path === "" ? "body" : bad.path}: ${bad.message}`, [bad]);
  return body;
}

/** A body that must be an object (command arguments, limits, scripts). */
export function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "invalid_body", "body must be a JSON object", [{ path: "", message: "expected an object" }]);
  }
  return body as Record<string, unknown>;
}

/** A JSON body that must be an object (command arguments, limits, scripts). */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  return requireObject(await readJsonBody(c));
}
