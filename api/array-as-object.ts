// valibot's object schemas take a JSON array for an object: `[]` has no key to refuse, so
// `{"limits_root_side": []}` would pass as `{"limits_root_side": {}}`. The contract's bodies are
// closed types, so an array where the schema built an object is a 400 like any schema failure.
// Found by walking the input beside the schema's output: wherever the output has an object, the
// input must not be an array.
import { ApiError, type ErrorDetail } from "./errors.ts";

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function join(path: string, key: string | number): string {
  return typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;
}

/** The first place where `input` holds an array and the parsed `output` an object, or null. */
export function arrayTakenAsObject(input: unknown, output: unknown, path = ""): ErrorDetail | null {
  if (isObject(output)) {
    if (Array.isArray(input)) return { path, message: "expected an object, got an array" };
    if (!isObject(input)) return null;
    for (const key of Object.keys(output)) {
      if (!Object.hasOwn(input, key)) continue;
      const found = arrayTakenAsObject(input[key], output[key], join(path, key));
      if (found) return found;
    }
    return null;
  }
  if (Array.isArray(output) && Array.isArray(input)) {
    for (let k = 0; k < output.length && k < input.length; k++) {
      const found = arrayTakenAsObject(input[k], output[k], join(path, k));
      if (found) return found;
    }
  }
  return null;
}

/** Throws the contract's 400 when `input` had an array where the schema built an object. */
export function refuseArrayAsObject(what: string, input: unknown, output: unknown): void {
  const found = arrayTakenAsObject(input, output);
  if (found) throw new ApiError(400, "invalid_body", `${what}: ${found.path === "" ? "body" : found.path}: ${found.message}`, [found]);
}
