// The scripted car of upstream EvManager (simulation.md §1.3, §1.4), IEC 61851 only, with the
// product fixes of §5 item 4. The board drives it: one step() per 250 ms board step. Each step
// runs commands until one blocks, then the car-state machine once, exactly as upstream's tick.
import type { CarInputs, CarOutputs, CarStateName } from "./contract.ts";
import { CarBusyError } from "./errors.ts";
import { type CarCommand, parseCarScript } from "./parse.ts";

export const CAR_TICK_MS = 250;

/** The RCD residual current a healthy installation shows (board default, simulation.md §2.1). */
export const CAR_DEFAULT_RCD_CURRENT_mA = 0.1;

/** The car's "basic-charging PWM present" window (§5 item 4: 97 % is still valid, unlike upstream). */
export function carSeesValidPwm(duty_percent: number): boolean {
  return duty_percent > 7 && duty_percent <= 97;
}

/** Ticks a `sleep` occupies, counting the tick it starts on: upstream floor(ms / 250) + 1. */
export function sleepTicks(seconds: number): number {
  return Math.floor((seconds * 1000) / CAR_TICK_MS) + 1;
}

interface QueuedCommand {
  command: CarCommand;
  /** How many ticks this command has been tried (for sleep). */
  calls: number;
}

export interface CarStatus {
  running: boolean;
  script: string | null;
  state: CarStateName;
}

function unpluggedOutputs(): CarOutputs {
  return {
    cp: "A",
    diode_fail: false,
    ev_max_current_A: 0,
    three_phases: true,
    rcd_current_mA: CAR_DEFAULT_RCD_CURRENT_mA,
    allow_power_on: false,
  };
}

export class Car {
  #state: CarStateName;
  /** The state whose entry actions last ran; a difference means "entered" (upstream last_state). */
  #acted: CarStateName;
  #out: CarOutputs;
  #script: string | null = null;
  #queue: QueuedCommand[] = [];

  constructor(opts: { initial?: "UNPLUGGED" | "PLUGGED_IN" } = {}) {
    this.#out = unpluggedOutputs();
    this.#state = "UNPLUGGED";
    this.#acted = "UNPLUGGED";
    if (opts.initial === "PLUGGED_IN") {
      // keep_plug_state_across_restart: back plugged in, CP B, nothing running.
      this.#state = "PLUGGED_IN";
      this.#acted = "PLUGGED_IN";
      this.#out.cp = "B";
    }
  }

  /** Parses first, so a bad script (CarScriptError) or a busy car (CarBusyError) changes nothing. */
  post(script: string, replace: boolean): void {
    const commands = parseCarScript(script);
    if (this.#script !== null && !replace) throw new CarBusyError(this.#script);
    if (!replace) this.#resetToUnplugged();
    this.#queue = commands.map((command) => ({ command, calls: 0 }));
    this.#script = script;
  }

  /** Ends the script where it is; the car keeps its plug state, CP level and demand. */
  stop(): void {
    this.#queue = [];
    this.#script = null;
  }

  step(inputs: CarInputs): CarOutputs {
    if (this.#script !== null) {
      for (;;) {
        const front = this.#queue[0];
        if (front === undefined || !this.#execute(front, inputs)) break;
        this.#queue.shift();
      }
    }
    this.#stateMachine(inputs);
    if (this.#script !== null && this.#queue.length === 0) this.#script = null;
    return this.outputs();
  }

  status(): CarStatus {
    return { running: this.#script !== null, script: this.#script, state: this.#state };
  }

  outputs(): CarOutputs {
    return { ...this.#out };
  }

  #resetToUnplugged(): void {
    this.#out = unpluggedOutputs();
    this.#state = "UNPLUGGED";
    this.#acted = "UNPLUGGED";
  }

  /** true = done (the next command runs in this tick), false = blocked until the next tick. */
  #execute(entry: QueuedCommand, inputs: CarInputs): boolean {
    const c = entry.command;
    switch (c.command) {
      case "sleep":
        entry.calls += 1;
        return entry.calls >= sleepTicks(c.seconds);
      case "iec_wait_pwr_ready":
        this.#state = "PLUGGED_IN";
        return carSeesValidPwm(inputs.pwm_duty_percent);
      case "draw_power_regulated":
      case "draw_power_fixed":
        this.#out.ev_max_current_A = c.amps;
        this.#out.three_phases = c.phases === 3;
        this.#state = c.command === "draw_power_regulated" ? "CHARGING_REGULATED" : "CHARGING_FIXED";
        return true;
      case "pause":
        this.#state = "PLUGGED_IN";
        return true;
      case "unplug":
        this.#state = "UNPLUGGED";
        return true;
      case "error_e":
        this.#state = "ERROR_E";
        return true;
      case "diode_fail":
        this.#state = "DIODE_FAIL";
        return true;
      case "rcd_current":
        this.#out.rcd_current_mA = c.mA;
        return true;
      case "set_soc":
        // AC basic charging publishes no EV data, so the SoC has nothing to show (§5 item 4).
        return true;
    }
  }

  #stateMachine(inputs: CarInputs): void {
    const entered = this.#state !== this.#acted;
    this.#acted = this.#state;
    const out = this.#out;
    switch (this.#state) {
      case "UNPLUGGED":
        if (entered) {
          out.cp = "A";
          out.allow_power_on = false;
          out.diode_fail = false; // product fix: the diode fault leaves with the car
        }
        return;
      case "PLUGGED_IN":
        if (entered) {
          out.cp = "B";
          out.allow_power_on = false;
        }
        return;
      case "CHARGING_REGULATED": {
        // Upstream acts on entry and on every duty change; checking every tick is the same,
        // since nothing else moves the CP while in this state. Follows an EVSE pause (X1, F).
        const charge = carSeesValidPwm(inputs.pwm_duty_percent);
        out.cp = charge ? "C" : "B";
        out.allow_power_on = charge;
        return;
      }
      case "CHARGING_FIXED":
        // A deliberately non-compliant car: stays in C whatever the PWM does.
        if (entered) {
          out.cp = "C";
          out.allow_power_on = true;
        }
        return;
      case "ERROR_E":
        // Product fix: E lasts only until the car sets another CP level (it is just the level).
        if (entered) {
          out.cp = "E";
          out.allow_power_on = false;
        }
        return;
      case "DIODE_FAIL":
        if (entered) {
          out.diode_fail = true;
          out.allow_power_on = false;
        }
        return;
    }
  }
}
