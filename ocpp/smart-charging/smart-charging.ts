// The charge point's installed charging profiles and what they allow on each connector now
// (OCPP 1.6 Smart Charging, ocpp.md §5.7). Pure: time from `deps.now()`, persistence through
// `deps.store`, transactions through `deps.transactionOf`. The OCPP adapter calls `set`, `clear`,
// `getCompositeSchedule`, and after every change and at every `nextBoundary` it hands `limitNow`
// to the kernel's `enforceLimits` [D-O 7].
import { compositeSchedule, floorTenth, levelAt, boundaries } from "./composite.ts";
import {
  DEFAULT_SUPPLY_VOLTAGE,
  expandProfile,
  floorSeconds,
  parseTime,
  recurrenceSeconds,
  type PeriodEntry,
} from "./periods.ts";
import type {
  ChargingProfile,
  ChargingProfileStatus,
  ChargingRateUnitType,
  ChargingSchedule,
  ClearChargingProfileCriteria,
  ClearChargingProfileStatus,
  GetCompositeScheduleResponse,
  InstalledProfile,
  LimitNow,
  SmartChargingDeps,
} from "./types.ts";
import { profileRejection } from "./validate.ts";

/** With no boundary sooner, the limit is re-applied this often (keeps `valid_until` ahead). */
export const REFRESH_MS = 3600_000;
/** `valid_until` runs this far past the re-application point, so a late timer never lets the
 *  kernel's limit lapse to 0 A (behavior.md §13.2) between two applications. */
export const VALIDITY_MARGIN_MS = 60_000;
/** GetCompositeSchedule durations are cut to this (libocpp MaxCompositeScheduleDuration). */
export const MAX_COMPOSITE_DURATION_S = 31_536_000;

export class SmartCharging {
  private profiles: InstalledProfile[];
  /** RemoteStartTransaction's TxProfile, installed when that transaction starts [D-O 6]. */
  private readonly pending = new Map<number, ChargingProfile>();
  /** The chargingProfileId a RemoteStart profile was installed under, until its transactionId is known. */
  private readonly unbound = new Map<number, number>();
  /** Why the last `set`/`setForRemoteStart` said Rejected (for the log). */
  lastRejection: string | null = null;

  constructor(private readonly deps: SmartChargingDeps) {
    this.profiles = deps.store.load().map((p) => structuredClone(p));
  }

  private get voltage(): number {
    return this.deps.config.supplyVoltage ?? DEFAULT_SUPPLY_VOLTAGE;
  }

  /** The installed profiles (copies). */
  installed(): InstalledProfile[] {
    return structuredClone(this.profiles);
  }

  /** SetChargingProfile.req. */
  set(connectorId: number, profile: ChargingProfile): ChargingProfileStatus {
    return this.install(connectorId, profile, false);
  }

  /** RemoteStartTransaction.req `chargingProfile`: must be a TxProfile; kept until
   *  `transactionStarted(connectorId)` installs it, dropped by `transactionEnded` [D-O 6]. While held
   *  it counts in `limitNow` and in the composite schedule already (a Relative one as if its
   *  transaction started now, as libocpp shows it), so the limit is in the kernel before the
   *  session's first PWM offer and GetCompositeSchedule answers what is applied. */
  setForRemoteStart(connectorId: number, profile: ChargingProfile): ChargingProfileStatus {
    if (profile.chargingProfilePurpose !== "TxProfile") {
      this.lastRejection = "a RemoteStartTransaction chargingProfile must be a TxProfile";
      return "Rejected";
    }
    return this.install(connectorId, profile, true);
  }

  /** The transaction on `connectorId` has started: a RemoteStart profile waiting for it applies now.
   *  Returns whether the profiles changed (then apply `limitNow`). */
  transactionStarted(connectorId: number): boolean {
    const profile = this.pending.get(connectorId);
    if (profile === undefined) return false;
    this.pending.delete(connectorId);
    this.replace(connectorId, profile);
    if (profile.transactionId === undefined) this.unbound.set(connectorId, profile.chargingProfileId);
    this.persist();
    return true;
  }

  /** StartTransaction.conf gave the transaction on `connectorId` its id: the RemoteStart profile
   *  installed for it is bound to that transactionId [D-O 6]. Returns whether a profile changed. */
  bindTransaction(connectorId: number, transactionId: number): boolean {
    const id = this.unbound.get(connectorId);
    if (id === undefined) return false;
    this.unbound.delete(connectorId);
    const p = this.profiles.find(
      (q) => q.connectorId === connectorId && q.csChargingProfiles.chargingProfilePurpose === "TxProfile" && q.csChargingProfiles.chargingProfileId === id,
    );
    if (p === undefined || p.csChargingProfiles.transactionId !== undefined) return false;
    p.csChargingProfiles.transactionId = transactionId;
    this.persist();
    return true;
  }

  /** The transaction on `connectorId` has ended: its TxProfiles go (OCPP 1.6 §3.13.1). */
  transactionEnded(connectorId: number): boolean {
    const hadPending = this.pending.delete(connectorId);
    this.unbound.delete(connectorId);
    const before = this.profiles.length;
    this.profiles = this.profiles.filter(
      (p) => !(p.connectorId === connectorId && p.csChargingProfiles.chargingProfilePurpose === "TxProfile"),
    );
    if (this.profiles.length === before) return hadPending;
    this.persist();
    return true;
  }

  /** ClearChargingProfile.req: no criteria clears all; `id` alone decides when given; otherwise every
   *  given criterion must match (connectorId = the connector the profile was set on). A RemoteStart
   *  profile still held is in force too, so it is cleared like an installed one. */
  clear(criteria: ClearChargingProfileCriteria): ClearChargingProfileStatus {
    const { id, connectorId, chargingProfilePurpose, stackLevel } = criteria;
    const matches = (p: InstalledProfile): boolean => {
      const cp = p.csChargingProfiles;
      if (id !== undefined) return cp.chargingProfileId === id;
      return (
        (connectorId === undefined || p.connectorId === connectorId) &&
        (chargingProfilePurpose === undefined || cp.chargingProfilePurpose === chargingProfilePurpose) &&
        (stackLevel === undefined || cp.stackLevel === stackLevel)
      );
    };
    let heldCleared = false;
    for (const [connector, held] of [...this.pending]) {
      if (!matches({ connectorId: connector, csChargingProfiles: held })) continue;
      this.pending.delete(connector);
      heldCleared = true;
    }
    const kept = this.profiles.filter((p) => !matches(p));
    const all = id === undefined && connectorId === undefined && chargingProfilePurpose === undefined && stackLevel === undefined;
    if (kept.length === this.profiles.length) return all || heldCleared ? "Accepted" : "Unknown";
    this.profiles = kept;
    this.persist();
    return "Accepted";
  }

  /** GetCompositeSchedule.req → .conf. */
  getCompositeSchedule(req: {
    connectorId: number;
    duration: number;
    chargingRateUnit?: ChargingRateUnitType;
  }): GetCompositeScheduleResponse {
    const schedule = this.composite(req.connectorId, req.duration, req.chargingRateUnit);
    if (schedule === null) return { status: "Rejected" };
    return {
      status: "Accepted",
      connectorId: req.connectorId,
      scheduleStart: schedule.startSchedule!,
      chargingSchedule: schedule,
    };
  }

  /** The composite schedule from now for `durationS` seconds, null for an unknown connector or a
   *  unit not allowed. Connector 0: the ChargePointMaxProfiles alone. A RemoteStart profile held for
   *  the connector counts as if its transaction started now. */
  composite(connectorId: number, durationS: number, unit?: ChargingRateUnitType): ChargingSchedule | null {
    const { config } = this.deps;
    if (!Number.isInteger(connectorId) || connectorId < 0 || connectorId > config.connectors) return null;
    if (unit !== undefined && !config.allowedUnits.includes(unit)) return null;
    const from = floorSeconds(this.deps.now());
    const seconds = Math.max(0, Math.min(Math.floor(durationS), MAX_COMPOSITE_DURATION_S));
    const entries = this.entries(connectorId, from, from + seconds * 1000, false);
    return compositeSchedule(entries, {
      from,
      durationS: seconds,
      unit: unit ?? "A",
      voltage: this.voltage,
      ratedCurrentA: config.ratedCurrentA,
    });
  }

  /** What the kernel should enforce on `connectorId` now (connector ≥ 1). A RemoteStart profile held
   *  for the connector counts as if its transaction started now: the kernel has its limit before
   *  the token, so charging begins at it [D-O 6]. */
  limitNow(connectorId: number): LimitNow {
    const now = this.deps.now();
    const level = levelAt(this.entries(connectorId, now, now, true), now);
    const phases = level?.numberPhases;
    return {
      currentA: level === null ? null : floorTenth(level.limitA),
      phases: phases === 1 || phases === 2 || phases === 3 ? phases : null,
      validUntil: this.nextBoundary(connectorId) + VALIDITY_MARGIN_MS,
    };
  }

  /** When to apply `limitNow` again: the next instant a period, occurrence or validity starts or ends
   *  on this connector, at the latest `REFRESH_MS` from now. */
  nextBoundary(connectorId: number): number {
    const now = this.deps.now();
    const horizon = now + REFRESH_MS;
    return boundaries(this.entries(connectorId, now, horizon, true), now, horizon)[0] ?? horizon;
  }

  private install(connectorId: number, input: ChargingProfile, forRemoteStart: boolean): ChargingProfileStatus {
    const profile = structuredClone(input);
    this.dropExpired();
    const replaced = this.replacedBy(connectorId, profile);
    const rejection = profileRejection(connectorId, profile, {
      config: this.deps.config,
      installedAfterReplace:
        this.profiles.length - replaced.length + (forRemoteStart ? this.pendingCountExcept(connectorId) : this.pending.size),
      transaction: Number.isInteger(connectorId) && connectorId > 0 ? this.deps.transactionOf(connectorId) : null,
      forRemoteStart,
    });
    this.lastRejection = rejection;
    if (rejection !== null) return "Rejected";
    if (profile.chargingProfileKind === "Recurring" && profile.chargingSchedule.duration !== undefined) {
      // As the reference: a recurrence cannot outlast its day or week.
      profile.chargingSchedule.duration = Math.min(profile.chargingSchedule.duration, recurrenceSeconds(profile));
    }
    if (forRemoteStart) {
      this.pending.set(connectorId, profile);
      return "Accepted";
    }
    this.replace(connectorId, profile);
    this.persist();
    return "Accepted";
  }

  private pendingCountExcept(connectorId: number): number {
    return this.pending.size - (this.pending.has(connectorId) ? 1 : 0);
  }

  /** Same chargingProfileId anywhere; same purpose and stackLevel on the same connector; a
   *  TxDefaultProfile for all connectors (0) also takes the place of the per-connector ones at its
   *  stackLevel (the reference writes it into every connector's slot). */
  private replacedBy(connectorId: number, p: ChargingProfile): InstalledProfile[] {
    return this.profiles.filter((q) => {
      const qp = q.csChargingProfiles;
      if (qp.chargingProfileId === p.chargingProfileId) return true;
      if (qp.chargingProfilePurpose !== p.chargingProfilePurpose || qp.stackLevel !== p.stackLevel) return false;
      return q.connectorId === connectorId || (p.chargingProfilePurpose === "TxDefaultProfile" && connectorId === 0);
    });
  }

  private replace(connectorId: number, profile: ChargingProfile): void {
    const gone = new Set(this.replacedBy(connectorId, profile));
    this.profiles = this.profiles.filter((p) => !gone.has(p));
    this.profiles.push({ connectorId, csChargingProfiles: profile });
  }

  /** Profiles past their validTo, and TxProfiles whose transaction is gone, can never apply again. */
  private dropExpired(): void {
    const now = this.deps.now();
    const kept = this.profiles.filter((p) => {
      const validTo = parseTime(p.csChargingProfiles.validTo);
      if (validTo !== undefined && validTo <= now) return false;
      if (p.csChargingProfiles.chargingProfilePurpose === "TxProfile") return this.txProfileApplies(p);
      return true;
    });
    if (kept.length === this.profiles.length) return;
    this.profiles = kept;
    this.persist();
  }

  private txProfileApplies(p: InstalledProfile): boolean {
    const tx = this.deps.transactionOf(p.connectorId);
    const wanted = p.csChargingProfiles.transactionId;
    return tx !== null && (wanted === undefined || wanted === tx.id);
  }

  /** The profiles in force on a connector: ChargePointMaxProfiles; the connector's TxDefaultProfiles
   *  and those for all connectors at stack levels it has none of its own; its TxProfiles while their
   *  transaction runs. Connector 0: the ChargePointMaxProfiles. */
  private applicable(connectorId: number): ChargingProfile[] {
    const out: ChargingProfile[] = [];
    const ownDefaultLevels = new Set<number>();
    for (const p of this.profiles) {
      const cp = p.csChargingProfiles;
      if (cp.chargingProfilePurpose === "TxDefaultProfile" && p.connectorId === connectorId) ownDefaultLevels.add(cp.stackLevel);
    }
    for (const p of this.profiles) {
      const cp = p.csChargingProfiles;
      switch (cp.chargingProfilePurpose) {
        case "ChargePointMaxProfile":
          out.push(cp);
          break;
        case "TxDefaultProfile":
          if (connectorId === 0) break;
          if (p.connectorId === connectorId || (p.connectorId === 0 && !ownDefaultLevels.has(cp.stackLevel))) out.push(cp);
          break;
        case "TxProfile":
          if (connectorId !== 0 && p.connectorId === connectorId && this.txProfileApplies(p)) out.push(cp);
          break;
      }
    }
    return out;
  }

  private entries(connectorId: number, from: number, to: number, relativeWithoutSessionFrozen: boolean): PeriodEntry[] {
    const tx = connectorId > 0 ? this.deps.transactionOf(connectorId) : null;
    const options = { from, to, sessionStart: tx?.startedAt ?? null, voltage: this.voltage, relativeWithoutSessionFrozen };
    const held = connectorId > 0 ? this.pending.get(connectorId) : undefined;
    const profiles = held === undefined ? this.applicable(connectorId) : [...this.applicable(connectorId), held];
    return profiles.flatMap((p) => expandProfile(p, options));
  }

  private persist(): void {
    this.deps.store.save(structuredClone(this.profiles));
  }
}
