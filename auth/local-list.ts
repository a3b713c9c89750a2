// The OCPP local authorization list (SendLocalList / GetLocalListVersion, ocpp.md §5.10),
// persisted in the store's key-value table.
import type { GlobalKv } from "../store/index.ts";
import type { IdTagInfo } from "./id-tag-info.ts";

const KEY = "ocpp.local_list";

interface Stored {
  version: number;
  entries: Record<string, IdTagInfo>;
}

export interface LocalListUpdate {
  listVersion: number;
  updateType: "Full" | "Differential";
  localAuthorizationList?: { idTag: string; idTagInfo?: IdTagInfo }[];
}

export type UpdateStatus = "Accepted" | "Failed" | "NotSupported" | "VersionMismatch";

export class LocalList {
  constructor(private readonly kv: GlobalKv) {}

  private read(): Stored {
    const s = this.kv.get(KEY) as Stored | null;
    return s && typeof s.version === "number" && s.entries ? s : { version: 0, entries: {} };
  }

  get version(): number {
    return this.read().version;
  }

  get size(): number {
    return Object.keys(this.read().entries).length;
  }

  lookup(idTag: string): IdTagInfo | null {
    return this.read().entries[idTag.toLowerCase()] ?? null;
  }

  /** libocpp's rules: a Differential update must carry a newer version than the list's. */
  apply(update: LocalListUpdate, maxLength: number): UpdateStatus {
    const current = this.read();
    const items = update.localAuthorizationList ?? [];
    let entries: Record<string, IdTagInfo>;
    if (update.updateType === "Full") {
      entries = {};
    } else {
      if (update.listVersion <= current.version) return "VersionMismatch";
      entries = { ...current.entries };
    }
    for (const item of items) {
      const key = item.idTag.toLowerCase();
      if (item.idTagInfo) entries[key] = item.idTagInfo;
      else if (update.updateType === "Differential") delete entries[key];
      else return "Failed"; // a Full list entry without idTagInfo is malformed (OCPP 1.6 §6.45)
    }
    if (Object.keys(entries).length > maxLength) return "Failed";
    // Version 0 means "no list" (GetLocalListVersion), so an empty Full update with version 0 clears it.
    this.kv.set(KEY, { version: update.listVersion, entries });
    return "Accepted";
  }
}
