// What limits the current of one EVSE, in words, from its status summary (GET …/status): the local
// energy manager's limit, the failsafe that replaced it, the EVSE's share of the site supply. Pure:
// the overview card and the detail view show the same sentences; unit-tested in
// test/dashboard-limits.test.ts.

/** The fields of GET …/{i}/status the page reads (api/status.ts). */
export interface StatusSummary {
  state: string;
  enabled: boolean;
  offered_current_A: number;
  max_current_A: number;
  local_limit_A: number | null;
  failsafe: boolean;
  /** Newer servers only; absent on older ones. */
  failsafe_current_A?: number | null;
  site_share_A: number | null;
  site_max_current_A?: number | null;
}

export interface LimitLine {
  kind: "local" | "failsafe" | "site";
  text: string;
  tone: "wait" | "warn";
}

/** 10 → "10 A", 6.6 → "6.6 A". */
export function ampsText(a: number): string {
  return `${Math.round(a * 10) / 10} A`;
}

export function limitLines(s: StatusSummary): LimitLine[] {
  const lines: LimitLine[] = [];
  if (s.failsafe) {
    const a = s.failsafe_current_A ?? s.max_current_A;
    lines.push({ kind: "failsafe", text: `Failsafe: energy manager silent, ${a === 0 ? "paused (0 A)" : ampsText(a)}`, tone: "warn" });
  } else if (s.local_limit_A !== null) {
    const a = s.local_limit_A;
    lines.push({ kind: "local", text: a === 0 ? "Paused by local control (0 A)" : `Limited to ${ampsText(a)} by local control`, tone: a === 0 ? "warn" : "wait" });
  }
  if (s.site_share_A !== null) {
    const of = typeof s.site_max_current_A === "number" ? ` of ${ampsText(s.site_max_current_A)}` : "";
    lines.push({ kind: "site", text: `Site share ${ampsText(s.site_share_A)}${of}`, tone: "wait" });
  }
  return lines;
}
