// Smart charging reaches the kernel here (ocpp.md §5.7): a connector's composite limit goes out
// through enforce_limits as soon as it changes and again at every period boundary [D-O 7]; where
// no profile applies there is no limit [D-O 8]; numberPhases becomes ac_max_phase_count.
import { ABSOLUTE_CURRENT_LIMIT_A } from "../core/energy-limits.ts";
import type { EnforcedLimits } from "../core/types/index.ts";
import type { SmartChargingPort } from "./smart-charging-port.ts";

/** Longest time between two enforce_limits of ours, so `valid_until` never lapses (D14: 0 A). */
const REFRESH_MS = 12 * 3600_000;

export interface LimitTarget {
  enforceLimits(value: EnforcedLimits): Promise<void>;
}

export class LimitApplier {
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  /** Connectors that got a limit from us once: from then on they are always kept fresh. */
  private readonly limited = new Set<number>();

  constructor(
    private readonly port: () => SmartChargingPort | null,
    private readonly kernelOf: (evse: number) => LimitTarget | undefined,
    private readonly transactionId: (evse: number) => number | null,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  apply(evse: number): void {
    const sc = this.port();
    const kernel = this.kernelOf(evse);
    if (!sc || !kernel) return;
    const old = this.timers.get(evse);
    if (old) clearTimeout(old);
    this.timers.delete(evse);
    const now = this.now();
    const applied = sc.limitAt(evse, now, this.transactionId(evse));
    // Never a limit of ours while no profile ever applied: the kernel keeps its own (D14).
    if (applied.ampere === null && applied.phases === null && !this.limited.has(evse)) return;
    this.limited.add(evse);
    const reapplyAt = Math.min(applied.nextChangeAt ?? Infinity, now + REFRESH_MS);
    // No profile: the largest grant the kernel accepts leaves hardware and config in charge [D-O 8].
    const limits: NonNullable<EnforcedLimits["limits_root_side"]> = { ac_max_current_A: applied.ampere ?? ABSOLUTE_CURRENT_LIMIT_A };
    if (applied.phases !== null) limits.ac_max_phase_count = applied.phases;
    void kernel
      .enforceLimits({ uuid: `ocpp_${evse}`, valid_until: new Date(reapplyAt + 60_000).toISOString(), limits_root_side: limits, schedule: [] })
      .catch((err) => this.log(`ocpp: enforce_limits on EVSE ${evse}: ${(err as Error).message}`));
    this.timers.set(evse, setTimeout(() => this.apply(evse), Math.max(50, reapplyAt - now)));
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
