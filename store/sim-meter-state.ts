// The simulated meter's registers across restarts (issue 12): a real meter's import register never
// goes back, so the simulated one continues where the previous process left it, and the simulated
// board starts with the accumulators it had. Written on every session event and at shutdown (so a
// signed end value is never above what the next process starts from) and, in between, whenever
// the register has moved EVERY_WH since the last write, not on every reading: a kill -9 loses at
// most that much.
import * as v from "valibot";
import type { Energy, Powermeter } from "../core/types/index.ts";
import type { EvseKv } from "./evse-kv.ts";

const KEY = "sim.meter";
/** About 3 s at 11 kW: one small write, well below the open-transaction record's own cadence. */
export const EVERY_WH = 10;

const Wh = v.pipe(v.number(), v.finite(), v.minValue(0));
const Phases = v.tuple([Wh, Wh, Wh]);
const SnapshotSchema = v.strictObject({ register_Wh: Wh, board_Wh: Wh, import_Wh: Phases, export_Wh: Phases });

export interface SimMeterSnapshot {
  /** The signed import register (sim/meter's SimOcmfMeter), whole Wh. */
  register_Wh: number;
  /** The board reading (Wh since its last reset) the register stood at. */
  board_Wh: number;
  /** The board's accumulators per phase L1–L3. */
  import_Wh: [number, number, number];
  export_Wh: [number, number, number];
}

/** Per-phase figures whose sum is at least the total (a reading may carry the total only). */
function phases(energy: Energy | undefined): [number, number, number] {
  if (!energy) return [0, 0, 0];
  const out: [number, number, number] = [energy.L1 ?? 0, energy.L2 ?? 0, energy.L3 ?? 0];
  const short = energy.total - (out[0] + out[1] + out[2]);
  if (short > 0) out[0] += short;
  return out;
}

export function snapshotOf(register: { wh: number; boardWh: number }, reading: Powermeter | null): SimMeterSnapshot {
  return {
    register_Wh: register.wh,
    board_Wh: register.boardWh,
    import_Wh: phases(reading?.energy_Wh_import),
    export_Wh: phases(reading?.energy_Wh_export),
  };
}

export class SimMeterState {
  readonly #kv: EvseKv;
  #written: number | null = null;

  constructor(kv: EvseKv) {
    this.#kv = kv;
  }

  /** What the previous process left, or null (never written, or not a snapshot). */
  restored(): SimMeterSnapshot | null {
    const result = v.safeParse(SnapshotSchema, this.#kv.get(KEY));
    if (!result.success || result.output.register_Wh < result.output.board_Wh) return null;
    this.#written = result.output.register_Wh;
    return result.output as SimMeterSnapshot;
  }

  /** On every reading: writes only when the register moved EVERY_WH since the last write. */
  observe(snapshot: SimMeterSnapshot): void {
    if (this.#written !== null && Math.abs(snapshot.register_Wh - this.#written) < EVERY_WH) return;
    this.save(snapshot);
  }

  /** Writes now (session events, shutdown). */
  save(snapshot: SimMeterSnapshot): void {
    this.#kv.set(KEY, snapshot);
    this.#written = snapshot.register_Wh;
  }
}
