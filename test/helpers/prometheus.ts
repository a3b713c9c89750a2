// A strict reader of the Prometheus text exposition format (0.0.4), for the /metrics tests.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y;

/** Throws naming the line when anything is malformed; samples must follow their TYPE line. */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | null = null;
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  for (const [n, line] of text.slice(0, -1).split("\n").entries()) {
    const where = `line ${n + 1}: ${line}`;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!name || !NAME.test(name)) throw new Error(`bad metric name, ${where}`);
      const f = families.get(name) ?? { name, type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest[0] ?? "")) throw new Error(`bad type, ${where}`);
        if (f.samples.length > 0) throw new Error(`TYPE after samples, ${where}`);
        f.type = rest[0]!;
      } else f.help = rest.join(" ");
      families.set(name, f);
      current = f;
      continue;
    }
    if (line.startsWith("#") || line === "") continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample, ${where}`);
    const [, name, , body, raw] = m;
    const labels: Record<string, string> = {};
    if (body) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < body.length) {
        const l = LABEL.exec(body);
        if (!l) throw new Error(`bad labels, ${where}`);
        if (l[1]! in labels) throw new Error(`label twice, ${where}`);
        labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
      }
    }
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? NaN : Number(raw);
    if (raw !== "NaN" && Number.isNaN(value)) throw new Error(`bad value, ${where}`);
    const base = current && (name === current.name || (["histogram", "summary"].includes(current.type) && /^(.*)_(bucket|sum|count)$/.exec(name!)?.[1] === current.name));
    if (!current || !base) throw new Error(`sample outside its family, ${where}`);
    if (current.type === "counter" && !(value >= 0)) throw new Error(`negative counter, ${where}`);
    current.samples.push({ name: name!, labels, value });
  }
  for (const f of families.values()) {
    if (f.type !== "histogram") continue;
    // Buckets cumulative and ending in +Inf = _count, per label set.
    const series = new Map<string, Sample[]>();
    for (const s of f.samples.filter((s) => s.name.endsWith("_bucket"))) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      for (let k = 1; k < buckets.length; k++) {
        if (buckets[k]!.value < buckets[k - 1]!.value || Number(buckets[k]!.labels.le === "+Inf" ? Infinity : buckets[k]!.labels.le) <= Number(buckets[k - 1]!.labels.le)) {
          throw new Error(`${f.name}${key}: buckets not cumulative`);
        }
      }
      const last = buckets[buckets.length - 1]!;
      const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
      if (last.labels.le !== "+Inf" || !count || count.value !== last.value) throw new Error(`${f.name}${key}: +Inf bucket must equal _count`);
    }
  }
  return families;
}

/** Value of the one sample of `family` whose labels include `labels`. */
export function sampleValue(families: Map<string, Family>, family: string, labels: Record<string, string> = {}, name = family): number | undefined {
  return families.get(family)?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
