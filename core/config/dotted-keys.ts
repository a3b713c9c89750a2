// http-api.md: "a dotted name stands for nested maps". Both spellings are accepted in the file:
// `sim.pp_resistor_ohm: 680` is read as `sim: {pp_resistor_ohm: 680}`.
import type { ConfigProblem } from "./config-error.ts";

type Json = unknown;

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function join(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

/** Returns a copy with every dotted key expanded; problems (a key given twice) are collected. */
export function expandDottedKeys(value: Json, problems: ConfigProblem[], path = ""): Json {
  if (Array.isArray(value)) return value.map((item, i) => expandDottedKeys(item, problems, join(path, i)));
  if (!isMap(value)) return value;
  // Null prototype: a "__proto__" key stays an ordinary (and then unknown) key.
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, raw] of Object.entries(value)) {
    const parts = key.split(".");
    if (parts.some((p) => p === "")) {
      problems.push({ path: join(path, key), message: "is not a valid option name (empty part in a dotted name)" });
      continue;
    }
    let target = out;
    let targetPath = path;
    for (const part of parts.slice(0, -1)) {
      targetPath = join(targetPath, part);
      const existing = target[part];
      if (existing === undefined) target[part] = Object.create(null);
      else if (!isMap(existing)) {
        problems.push({ path: targetPath, message: `is given both as a value and as a map (via "${key}")` });
        target = {};
        continue;
      }
      target = target[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    const leafPath = join(targetPath, last);
    const expanded = expandDottedKeys(raw, problems, leafPath);
    const existing = target[last];
    if (existing === undefined) target[last] = expanded;
    else if (isMap(existing) && isMap(expanded)) target[last] = mergeMaps(existing, expanded, problems, leafPath);
    else problems.push({ path: leafPath, message: "is given more than once (dotted and nested spelling)" });
  }
  return out;
}

function mergeMaps(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  problems: ConfigProblem[],
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = Object.assign(Object.create(null), a);
  for (const [key, value] of Object.entries(b)) {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (isMap(existing) && isMap(value)) out[key] = mergeMaps(existing, value, problems, join(path, key));
    else problems.push({ path: join(path, key), message: "is given more than once (dotted and nested spelling)" });
  }
  return out;
}
