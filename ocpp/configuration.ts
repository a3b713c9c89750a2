// The charge point's OCPP configuration keys at run time (ocpp.md §7): a CSMS change is persisted
// and wins over the config file's initial value, which wins over libocpp's default.
import { canonicalKey, keyValue, OCPP_KEYS, type Measurand } from "../core/config/index.ts";
import type { GlobalKv } from "../store/index.ts";

const PERSIST_PREFIX = "ocpp.config.";

export type ChangeStatus = "Accepted" | "Rejected" | "RebootRequired" | "NotSupported";

export class OcppConfiguration {
  private readonly listeners: ((key: string, value: string) => void)[] = [];

  constructor(
    private readonly kv: GlobalKv,
    private readonly initial: Record<string, string>,
    private readonly numberOfConnectors: number,
  ) {}

  /** The wire value of a known key (canonical name). */
  get(key: string): string {
    if (key === "NumberOfConnectors") return String(this.numberOfConnectors);
    const def = OCPP_KEYS[key];
    if (!def) throw new RangeError(`unknown OCPP configuration key ${key}`);
    if (def.computed) return def.default;
    const persisted = this.kv.get(PERSIST_PREFIX + key);
    if (typeof persisted === "string") return persisted;
    return this.initial[key] ?? def.default;
  }

  bool(key: string): boolean {
    return this.get(key) === "true";
  }

  int(key: string): number {
    const n = Number(this.get(key));
    return Number.isFinite(n) ? n : 0;
  }

  measurands(key: string): Measurand[] {
    const text = this.get(key);
    return text === "" ? [] : (text.split(",") as Measurand[]);
  }

  /** GetConfiguration: every key (empty request) or the named ones; unknown names come back separately. */
  list(names?: string[]): { known: { key: string; readonly: boolean; value: string }[]; unknown: string[] } {
    const known: { key: string; readonly: boolean; value: string }[] = [];
    const unknown: string[] = [];
    for (const name of names && names.length > 0 ? names : Object.keys(OCPP_KEYS)) {
      const key = canonicalKey(name);
      if (key === null) unknown.push(name);
      else known.push({ key: name, readonly: OCPP_KEYS[key]!.readonly, value: this.get(key) });
    }
    return { known, unknown };
  }

  /** ChangeConfiguration: unknown key → NotSupported, read-only → Rejected, bad or unsupported value → Rejected. */
  change(name: string, raw: string): ChangeStatus {
    const key = canonicalKey(name);
    if (key === null) return "NotSupported";
    const def = OCPP_KEYS[key]!;
    if (def.readonly) return "Rejected";
    const max = def.maxLengthKey ? this.int(def.maxLengthKey) : Infinity;
    const result = keyValue(def, raw, max);
    if ("error" in result) return "Rejected";
    this.kv.set(PERSIST_PREFIX + key, result.value);
    for (const listener of this.listeners) listener(key, result.value);
    return "Accepted";
  }

  /** Set by the program itself (HeartbeatInterval from BootNotification.conf): persisted like a CSMS change. */
  setInternal(key: string, value: string): void {
    this.kv.set(PERSIST_PREFIX + key, value);
    for (const listener of this.listeners) listener(key, value);
  }

  onChange(listener: (key: string, value: string) => void): void {
    this.listeners.push(listener);
  }
}
