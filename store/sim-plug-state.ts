// sim.keep_plug_state_across_restart (simulation.md §5 item 6, scenarios.md S25 part C): whether
// the simulated car was plugged in when the process ended, kill -9 included. So the flag is
// written the moment it changes, not at shutdown; a restart then starts the car plugged in.
import type { EvseKv } from "./evse-kv.ts";

const KEY = "sim.car_plugged_in";

export class SimPlugState {
  readonly #kv: EvseKv;
  #last: boolean | null = null;

  constructor(kv: EvseKv) {
    this.#kv = kv;
  }

  /** True when the car was plugged in when the previous process ended. */
  wasPluggedIn(): boolean {
    return this.#kv.get(KEY) === true;
  }

  /** Call as often as convenient: only a change reaches the disk. */
  observe(pluggedIn: boolean): void {
    if (pluggedIn === this.#last) return;
    this.#kv.set(KEY, pluggedIn);
    this.#last = pluggedIn;
  }

  /** With the option off nothing is kept: a flag from an earlier run must not apply later. */
  forget(): void {
    this.#kv.delete(KEY);
    this.#last = null;
  }
}
