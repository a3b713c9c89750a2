// The OCPP authorization cache (ocpp.md §2.1, ClearCache §5.10): every IdTagInfo the CSMS sends
// is remembered per id tag, persisted in the store's key-value table, bounded in size.
import type { GlobalKv } from "../store/index.ts";
import type { IdTagInfo } from "./id-tag-info.ts";

const KEY = "ocpp.auth_cache";
const MAX_ENTRIES = 1000;

export class AuthCache {
  constructor(private readonly kv: GlobalKv) {}

  private read(): Record<string, IdTagInfo> {
    const s = this.kv.get(KEY) as Record<string, IdTagInfo> | null;
    return s && typeof s === "object" ? s : {};
  }

  lookup(idTag: string): IdTagInfo | null {
    return this.read()[idTag.toLowerCase()] ?? null;
  }

  update(idTag: string, info: IdTagInfo): void {
    const entries = this.read();
    const key = idTag.toLowerCase();
    delete entries[key]; // re-inserted last: the oldest entries are the first to go
    entries[key] = info;
    const keys = Object.keys(entries);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete entries[k];
    this.kv.set(KEY, entries);
  }

  clear(): void {
    this.kv.set(KEY, {});
  }
}
