// PUT …/control's standing current limit (integration.md §2) survives a restart: written when it
// changes, read once before the kernel boots. The failsafe timer is not kept: after a restart it
// runs from the boot.
import type { EvseKv } from "./evse-kv.ts";

const KEY = "control.max_current_A";

export class LocalLimitState {
  readonly #kv: EvseKv;
  readonly #warn: (message: string) => void;

  constructor(kv: EvseKv, warn: (message: string) => void) {
    this.#kv = kv;
    this.#warn = warn;
  }

  /** The limit of the previous run; null when none was set (or the stored value is unusable). */
  load(): number | null {
    const value = this.#kv.get(KEY);
    return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
  }

  /** A storage failure is logged, never thrown: the limit applies anyway, it is only not kept. */
  save(limitA: number | null): void {
    try {
      if (limitA === null) this.#kv.delete(KEY);
      else this.#kv.set(KEY, limitA);
    } catch (err) {
      this.#warn(`WARNING cannot persist the local current limit: ${(err as Error).message}`);
    }
  }
}
