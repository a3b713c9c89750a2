// A small SmartChargingPort (smart-charging-port.ts) until the full module takes its place: the
// profile store (persisted), the reference's rejections, stacking (highest stackLevel wins within a
// purpose; TxProfile over TxDefaultProfile; ChargePointMaxProfile caps both), Absolute, Relative and
// Recurring schedules, W → A at 230 V × phases, and the composite schedule sampled at every period
// boundary. Where no profile applies there is no limit [D-O 8].
import type { GlobalKv } from "../store/index.ts";
import type { AppliedLimit, ChargingProfile, ChargingSchedule, ClearCriteria, SmartChargingPort } from "./smart-charging-port.ts";

const KEY = "ocpp.charging_profiles";
const VOLTS = 230;
const MAX_STACK_LEVEL = 100;
const MAX_PERIODS = 1000;

interface Installed {
  connectorId: number;
  profile: ChargingProfile;
  /** When the transaction it belongs to started (Relative schedules), ms. */
  installedAt: number;
  /** A RemoteStartTransaction profile waiting for its transactionId [D-O 6]. */
  pending?: true;
}

interface ActivePeriod {
  ampere: number;
  phases: number | null;
  /** Next instant (ms) at which this profile's value may change; null: never. */
  next: number | null;
}

export class MinimalSmartCharging implements SmartChargingPort {
  /** Start of the running transaction per connector, for Relative profiles (ms). */
  private readonly txStart = new Map<number, number>();

  constructor(
    private readonly kv: GlobalKv,
    private readonly connectors: number,
  ) {}

  private read(): Installed[] {
    const list = this.kv.get(KEY);
    return Array.isArray(list) ? (list as Installed[]) : [];
  }

  private write(list: Installed[]): void {
    this.kv.set(KEY, list);
  }

  set(connectorId: number, profile: ChargingProfile, transactionId: number | null): "Accepted" | "Rejected" | "NotSupported" {
    if (connectorId < 0 || connectorId > this.connectors) return "Rejected";
    if (profile.stackLevel < 0 || profile.stackLevel > MAX_STACK_LEVEL) return "Rejected";
    if (profile.chargingSchedule.chargingSchedulePeriod.length > MAX_PERIODS) return "Rejected";
    if (profile.chargingProfileKind === "Recurring" && (!profile.recurrencyKind || !profile.chargingSchedule.startSchedule)) return "Rejected";
    if (profile.chargingProfileKind === "Absolute" && !profile.chargingSchedule.startSchedule) return "Rejected";
    if (profile.chargingProfilePurpose === "TxProfile") {
      if (transactionId === null) return "Rejected";
      if (profile.transactionId !== undefined && profile.transactionId !== transactionId) return "Rejected";
    }
    const now = Date.now();
    if (profile.chargingProfilePurpose === "TxProfile" && !this.txStart.has(connectorId)) this.txStart.set(connectorId, now);
    const list = this.read().filter(
      (p) =>
        p.profile.chargingProfileId !== profile.chargingProfileId &&
        !(p.connectorId === connectorId && p.profile.stackLevel === profile.stackLevel && p.profile.chargingProfilePurpose === profile.chargingProfilePurpose),
    );
    list.push({ connectorId, profile: profile.chargingProfilePurpose === "TxProfile" ? { ...profile, transactionId: transactionId! } : profile, installedAt: now });
    this.write(list);
    return "Accepted";
  }

  clear(c: ClearCriteria): "Accepted" | "Unknown" {
    const list = this.read();
    const keep = list.filter((p) => {
      if (c.id !== undefined) return p.profile.chargingProfileId !== c.id;
      if (c.connectorId !== undefined && p.connectorId !== c.connectorId) return true;
      if (c.chargingProfilePurpose !== undefined && p.profile.chargingProfilePurpose !== c.chargingProfilePurpose) return true;
      if (c.stackLevel !== undefined && p.profile.stackLevel !== c.stackLevel) return true;
      return false;
    });
    if (keep.length === list.length) return "Unknown";
    this.write(keep);
    return "Accepted";
  }

  applyAtTransactionStart(connectorId: number, profile: ChargingProfile): void {
    const now = Date.now();
    this.txStart.set(connectorId, now);
    const list = this.read().filter((p) => p.profile.chargingProfileId !== profile.chargingProfileId);
    list.push({ connectorId, profile: { ...profile, chargingProfilePurpose: "TxProfile" }, installedAt: now, pending: true });
    this.write(list);
  }

  transactionEnded(connectorId: number): void {
    this.txStart.delete(connectorId);
    const list = this.read();
    const keep = list.filter((p) => !(p.connectorId === connectorId && p.profile.chargingProfilePurpose === "TxProfile"));
    if (keep.length !== list.length) this.write(keep);
  }

  /** Start of a profile's schedule at `now` (ms), or null when it cannot start. */
  private scheduleStart(p: Installed, connectorId: number, now: number): number | null {
    const s = p.profile.chargingSchedule;
    switch (p.profile.chargingProfileKind) {
      case "Absolute":
        return s.startSchedule ? Date.parse(s.startSchedule) : p.installedAt;
      case "Relative":
        return this.txStart.get(connectorId) ?? null;
      case "Recurring": {
        const first = Date.parse(s.startSchedule!);
        const period = p.profile.recurrencyKind === "Weekly" ? 7 * 86400_000 : 86400_000;
        if (now < first) return first;
        return first + Math.floor((now - first) / period) * period;
      }
    }
  }

  private active(p: Installed, connectorId: number, now: number): ActivePeriod | null {
    const prof = p.profile;
    const validFrom = prof.validFrom ? Date.parse(prof.validFrom) : -Infinity;
    const validTo = prof.validTo ? Date.parse(prof.validTo) : Infinity;
    if (now < validFrom) return null;
    if (now >= validTo) return null;
    const start = this.scheduleStart(p, connectorId, now);
    if (start === null || now < start) return null;
    const s = prof.chargingSchedule;
    const offset = (now - start) / 1000;
    if (s.duration !== undefined && offset >= s.duration) return null;
    const periods = [...s.chargingSchedulePeriod].sort((a, b) => a.startPeriod - b.startPeriod);
    let current = null as (typeof periods)[number] | null;
    let next: number | null = null;
    for (const period of periods) {
      if (period.startPeriod <= offset) current = period;
      else {
        next = start + period.startPeriod * 1000;
        break;
      }
    }
    if (!current) return null;
    const end = s.duration !== undefined ? start + s.duration * 1000 : prof.chargingProfileKind === "Recurring" ? start + (prof.recurrencyKind === "Weekly" ? 7 : 1) * 86400_000 : null;
    const candidates = [next, end, Number.isFinite(validTo) ? validTo : null].filter((x): x is number => x !== null && x > now);
    const phases = current.numberPhases ?? null;
    const ampere = s.chargingRateUnit === "A" ? current.limit : current.limit / (VOLTS * (phases ?? 3));
    return { ampere, phases, next: candidates.length ? Math.min(...candidates) : null };
  }

  /** The highest-stack active profile of a purpose on a connector (connector 0 counts for all). */
  private best(purpose: ChargingProfile["chargingProfilePurpose"], connectorId: number, now: number, tx: number | null): ActivePeriod | null {
    const list = this.read()
      .filter((p) => p.profile.chargingProfilePurpose === purpose)
      .filter((p) => (purpose === "ChargePointMaxProfile" ? p.connectorId === 0 : p.connectorId === connectorId || p.connectorId === 0))
      .filter((p) => purpose !== "TxProfile" || p.pending === true || (tx !== null && p.profile.transactionId === tx))
      .sort((a, b) => b.profile.stackLevel - a.profile.stackLevel || (b.connectorId === connectorId ? 1 : 0) - (a.connectorId === connectorId ? 1 : 0));
    let nextChange: number | null = null;
    for (const p of list) {
      const a = this.active(p, connectorId, now);
      if (a) return { ...a, next: minOf(a.next, nextChange) };
      // Not active now; it may become active later.
      const start = this.scheduleStart(p, connectorId, now);
      if (start !== null && start > now) nextChange = minOf(nextChange, start);
    }
    return nextChange === null ? null : { ampere: NaN, phases: null, next: nextChange };
  }

  limitAt(connectorId: number, now: number, transactionId: number | null): AppliedLimit {
    const tx = connectorId > 0 ? this.best("TxProfile", connectorId, now, transactionId) : null;
    const txDefault = this.best("TxDefaultProfile", connectorId, now, null);
    const cpMax = this.best("ChargePointMaxProfile", 0, now, null);
    const chosen = tx && !Number.isNaN(tx.ampere) ? tx : txDefault;
    let ampere: number | null = chosen && !Number.isNaN(chosen.ampere) ? chosen.ampere : null;
    let phases = chosen && !Number.isNaN(chosen.ampere) ? chosen.phases : null;
    if (cpMax && !Number.isNaN(cpMax.ampere)) {
      ampere = ampere === null ? cpMax.ampere : Math.min(ampere, cpMax.ampere);
      if (cpMax.phases !== null) phases = phases === null ? cpMax.phases : Math.min(phases, cpMax.phases);
    }
    return { ampere, phases, nextChangeAt: minOf(minOf(tx?.next ?? null, txDefault?.next ?? null), cpMax?.next ?? null) };
  }

  composite(connectorId: number, durationS: number, unit: "A" | "W" | undefined, now: number): (ChargingSchedule & { startSchedule: string }) | null {
    if (connectorId < 0 || connectorId > this.connectors) return null;
    const rateUnit = unit ?? "A";
    const periods: ChargingSchedule["chargingSchedulePeriod"] = [];
    const end = now + durationS * 1000;
    let t = now;
    // TxProfiles are removed when their transaction ends: one still installed belongs to the running one.
    const tx = this.read().find((p) => p.connectorId === connectorId && p.profile.chargingProfilePurpose === "TxProfile")?.profile.transactionId ?? null;
    for (let i = 0; i < MAX_PERIODS && t < end; i++) {
      const l = this.limitAt(connectorId, t, connectorId === 0 ? null : tx);
      const ampere = l.ampere;
      if (ampere !== null) {
        const limit = rateUnit === "A" ? round1(ampere) : round1(ampere * VOLTS * (l.phases ?? 3));
        const last = periods[periods.length - 1];
        if (!last || last.limit !== limit || (last.numberPhases ?? null) !== l.phases) {
          periods.push({ startPeriod: Math.round((t - now) / 1000), limit, ...(l.phases !== null ? { numberPhases: l.phases } : {}) });
        }
      }
      if (l.nextChangeAt === null || l.nextChangeAt <= t) break;
      t = l.nextChangeAt;
    }
    if (periods.length === 0) return null;
    return { startSchedule: new Date(now).toISOString(), duration: durationS, chargingRateUnit: rateUnit, chargingSchedulePeriod: periods };
  }
}

const minOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const round1 = (x: number): number => Math.round(x * 10) / 10;
