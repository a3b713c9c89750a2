// OCPP smart charging wired to the charge point (ocpp.md §5.7): the pure `SmartCharging` module
// (ocpp/smart-charging/) fed from the SmartCharging configuration keys, its profiles kept in the
// OCPP key-value table, and its result applied through the kernel's enforce_limits as soon as it
// changes and again at every period boundary, one timer per connector [D-O 7].
import type { EnforcedLimits } from "../core/types/index.ts";
import type { GlobalKv } from "../store/index.ts";
import type { OcppConfiguration } from "./configuration.ts";
import {
  parseAllowedChargingRateUnits,
  SmartCharging,
  toEnforcedLimits,
  type ChargingProfile,
  type ChargingProfileStatus,
  type ChargingRateUnitType,
  type ClearChargingProfileCriteria,
  type ClearChargingProfileStatus,
  type GetCompositeScheduleResponse,
  type InstalledProfile,
  type ProfileStore,
  type SmartChargingConfig,
  type TransactionRef,
} from "./smart-charging/index.ts";

export type { ChargingProfile } from "./smart-charging/index.ts";

const PROFILES_KEY = "ocpp.charging_profiles";
/** How far ahead the informative `schedule` of each enforce_limits reaches. */
const FORECAST_S = 86_400;
/** setTimeout cannot wait longer than 2^31-1 ms; nextBoundary is at most an hour away anyway. */
const MAX_TIMER_MS = 2_147_483_647;

export interface SmartChargingAdapterDeps {
  kv: GlobalKv;
  config: OcppConfiguration;
  connectors: number;
  /** What a connector gives with no profile (max_current_import_A), for GetCompositeSchedule. */
  ratedCurrentA: number;
  now(): number;
  /** The running transaction on a connector: the CSMS transactionId (-1 until StartTransaction.conf) and its start. */
  transactionOf(connectorId: number): TransactionRef | null;
  enforceLimits(connectorId: number, limits: EnforcedLimits): Promise<void>;
  log(line: string): void;
}

/** Installed profiles in the OCPP key-value table (migration 3); entries of another shape are dropped. */
function kvProfileStore(kv: GlobalKv): ProfileStore {
  return {
    load: () => {
      const list = kv.get(PROFILES_KEY);
      if (!Array.isArray(list)) return [];
      return list.filter(
        (p): p is InstalledProfile =>
          typeof p === "object" && p !== null && typeof p.connectorId === "number" && typeof p.csChargingProfiles === "object" && p.csChargingProfiles !== null,
      );
    },
    save: (profiles) => kv.set(PROFILES_KEY, profiles),
  };
}

export class SmartChargingAdapter {
  private readonly sc: SmartCharging;
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  /** Connectors that got a limit from us since the start. */
  private readonly limited = new Set<number>();

  constructor(private readonly deps: SmartChargingAdapterDeps) {
    const keys = deps.config;
    // Getters: the keys are read each time, so a value changed by the config file after a restart
    // (or by the program) is the one in force.
    const config: SmartChargingConfig = {
      get maxStackLevel() {
        return keys.int("ChargeProfileMaxStackLevel");
      },
      get allowedUnits() {
        return parseAllowedChargingRateUnits(keys.get("ChargingScheduleAllowedChargingRateUnit"));
      },
      get maxPeriods() {
        return keys.int("ChargingScheduleMaxPeriods");
      },
      get maxProfiles() {
        return keys.int("MaxChargingProfilesInstalled");
      },
      get connectors() {
        return keys.int("NumberOfConnectors");
      },
      ratedCurrentA: deps.ratedCurrentA,
    };
    this.sc = new SmartCharging({ now: deps.now, store: kvProfileStore(deps.kv), config, transactionOf: deps.transactionOf });
  }

  /** SetChargingProfile.req; an accepted profile is applied at once. */
  set(connectorId: number, profile: ChargingProfile): ChargingProfileStatus {
    const status = this.sc.set(connectorId, profile);
    this.report("SetChargingProfile", connectorId, profile, status);
    if (status === "Accepted") this.applyAffected(connectorId);
    return status;
  }

  /** RemoteStartTransaction.req `chargingProfile`: checked now, installed when that transaction
   *  starts; its limit goes to the kernel at once, ahead of the token, so that session's first PWM
   *  offer already carries it [D-O 6]. */
  setForRemoteStart(connectorId: number, profile: ChargingProfile): ChargingProfileStatus {
    const status = this.sc.setForRemoteStart(connectorId, profile);
    this.report("RemoteStartTransaction chargingProfile", connectorId, profile, status);
    if (status === "Accepted") this.apply(connectorId);
    return status;
  }

  /** The RemoteStart that carried a profile did not lead to an authorization: the profile is
   *  dropped, and so is its limit. */
  dropRemoteStartProfile(connectorId: number): void {
    if (this.deps.transactionOf(connectorId) === null && this.sc.transactionEnded(connectorId)) this.apply(connectorId);
  }

  /** ClearChargingProfile.req; what is left is applied at once. */
  clear(criteria: ClearChargingProfileCriteria): ClearChargingProfileStatus {
    const status = this.sc.clear(criteria);
    if (status === "Accepted") this.applyAll();
    return status;
  }

  getCompositeSchedule(req: { connectorId: number; duration: number; chargingRateUnit?: ChargingRateUnitType }): GetCompositeScheduleResponse {
    return this.sc.getCompositeSchedule(req);
  }

  /** The connector's transaction has started: a RemoteStart profile held for it applies now. */
  transactionStarted(connectorId: number): void {
    this.sc.transactionStarted(connectorId);
    this.apply(connectorId);
  }

  /** StartTransaction.conf: the RemoteStart profile of this transaction is bound to its id, and a
   *  TxProfile naming that id may apply from now on. */
  transactionIdKnown(connectorId: number, transactionId: number): void {
    this.sc.bindTransaction(connectorId, transactionId);
    this.apply(connectorId);
  }

  /** The connector's transaction has ended: its TxProfiles go. */
  transactionEnded(connectorId: number): void {
    this.sc.transactionEnded(connectorId);
    this.apply(connectorId);
  }

  applyAll(): void {
    for (let c = 1; c <= this.deps.connectors; c++) this.apply(c);
  }

  /** The connector's limit now through enforce_limits, and a timer for its next boundary [D-O 7].
   *  A connector no profile has limited since the start is left alone: the kernel keeps its own limits (D14). */
  apply(connectorId: number): void {
    const old = this.timers.get(connectorId);
    if (old) clearTimeout(old);
    this.timers.delete(connectorId);
    const limit = this.sc.limitNow(connectorId);
    const next = this.sc.nextBoundary(connectorId);
    this.timers.set(connectorId, setTimeout(() => this.apply(connectorId), Math.min(MAX_TIMER_MS, Math.max(0, next - this.deps.now()))));
    // Once sent, a limit is kept fresh for good: a lapsed energy-manager limit means 0 A (D14), so
    // "no limit" [D-O 8] is sent (as the largest grant) rather than left to expire.
    if (limit.currentA === null && limit.phases === null && !this.limited.has(connectorId)) return;
    this.limited.add(connectorId);
    const forecast = this.sc.composite(connectorId, FORECAST_S, "A");
    const enforced = toEnforcedLimits(`evse_manager_${connectorId}`, limit, forecast);
    this.deps
      .enforceLimits(connectorId, enforced)
      .catch((err) => this.deps.log(`ocpp: enforce_limits on EVSE ${connectorId}: ${(err as Error).message}`));
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private applyAffected(connectorId: number): void {
    if (connectorId === 0) this.applyAll();
    else this.apply(connectorId);
  }

  private report(what: string, connectorId: number, profile: ChargingProfile, status: ChargingProfileStatus): void {
    const why = status === "Rejected" && this.sc.lastRejection ? `: ${this.sc.lastRejection}` : "";
    this.deps.log(`ocpp: ${what} ${profile.chargingProfilePurpose} id=${profile.chargingProfileId} on connector ${connectorId} ${status}${why}`);
  }
}
