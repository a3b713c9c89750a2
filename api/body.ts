// Reading a request body by the contract's rules, in its order: size (413) before anything is
// parsed, then the content type (415), then JSON (400). An empty body counts as {}.
// The same rules (minus the content type) read an MQTT command payload (mqtt/), so a bad body
// gets the same error from both.
import type { Context } from "hono";
import { ApiError } from "./errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = () => new ApiError(413, "body_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`);

export async function readJsonBody(c: Context): Promise<unknown> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
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
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, "invalid_json", `body is not valid JSON: ${(err as Error).message}`);
  }
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
