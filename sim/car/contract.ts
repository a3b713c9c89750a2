// The boundary between the simulated car and the simulated board (simulation.md §3.2, the car's
// view: ev_board_support). The board calls car.step() once per 250 ms board step, before it
// reads the CP, and applies what the car asks for.

/** What the board tells the car (upstream bsp_measurement). */
export interface CarInputs {
  /** Duty the board generates, percent; 100 when PWM is off (X1) or F. */
  pwm_duty_percent: number;
  pp_ampacity: "None" | "A_13" | "A_20" | "A_32" | "A_63_3ph_70_1ph";
  rcd_current_mA: number;
  /** True while the EVSE drives F (-12 V). */
  evse_state_F: boolean;
}

/** What the car sets on the board (upstream ev_board_support commands). */
export interface CarOutputs {
  cp: "A" | "B" | "C" | "D" | "E";
  diode_fail: boolean;
  /** 0 = not set (board then draws the PWM current). */
  ev_max_current_A: number;
  three_phases: boolean;
  rcd_current_mA: number;
  /** EV-side contactor; informative only. */
  allow_power_on: boolean;
}

export type CarStateName =
  | "UNPLUGGED"
  | "PLUGGED_IN"
  | "CHARGING_REGULATED"
  | "CHARGING_FIXED"
  | "ERROR_E"
  | "DIODE_FAIL";
