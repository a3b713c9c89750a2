// How the key-value tables (evse_kv, the OCPP kv) keep a value: JSON text. A row that does not
// parse reads as absent rather than failing the caller; a value JSON cannot hold is refused.
export function decodeJsonValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function encodeJsonValue(table: string, key: string, value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${table} ${JSON.stringify(key)}: value is not JSON`);
  return text;
}
