// Enable/disable arbitration (behavior.md §11.1–11.2): one row per source, the smallest priority
// number wins, Disable wins ties; a connector-level flag is ANDed in (reference behaviour).
import type { EnableDisableSource } from "./types/index.ts";

/** The three fields of an EnableDisableSource, nothing else (events carry exactly these). */
export type EnableSourceRow = Pick<EnableDisableSource, "enable_source" | "enable_state" | "enable_priority">;

const NO_SOURCE: EnableSourceRow = { enable_source: "Unspecified", enable_state: "Unassigned", enable_priority: 10000 };

export class EnableDisableTable {
  private rows: EnableSourceRow[] = [{ enable_source: "Unspecified", enable_state: "Enable", enable_priority: 10000 }];
  private connectorEnabled = true;

  /** The row that decides, or {Unspecified, Unassigned, 10000} when no row is assigned. */
  activeSource(): EnableSourceRow {
    let winner: EnableSourceRow | null = null;
    for (const row of this.rows) {
      if (row.enable_state === "Unassigned") continue;
      if (
        winner === null ||
        row.enable_priority < winner.enable_priority ||
        (row.enable_priority === winner.enable_priority && row.enable_state === "Disable")
      ) {
        winner = row;
      }
    }
    return { ...(winner ?? NO_SOURCE) };
  }

  arbitration(): boolean {
    return this.activeSource().enable_state !== "Disable";
  }

  /** Effective enabled = arbitration result AND connector flag (§11.2 step 3). */
  effective(): boolean {
    return this.arbitration() && this.connectorEnabled;
  }

  /** Upserts the row; connector_id 1 also sets the connector flag. The caller filters ids other than 0/1 [Q23]. */
  apply(connector_id: 0 | 1, source: EnableDisableSource): void {
    const row: EnableSourceRow = {
      enable_source: source.enable_source,
      enable_state: source.enable_state,
      enable_priority: source.enable_priority,
    };
    const i = this.rows.findIndex((r) => r.enable_source === row.enable_source);
    if (i >= 0) this.rows[i] = row;
    else this.rows.push(row);
    if (connector_id === 1) this.connectorEnabled = this.arbitration();
  }
}
