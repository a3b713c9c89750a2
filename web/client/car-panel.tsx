/** @jsxImportSource preact */
// The simulated car (simulation.md §1): the Node-RED dashboard's buttons as car scripts. Plug in
// starts a fresh session (the car is reset to unplugged first); the others replace the running
// script and continue from the car's present state.
import { useState } from "preact/hooks";
import { api, evsePath } from "./api.ts";
import type { Act } from "./use-action.ts";
import type { SimState } from "./use-evse.ts";

const HOLD = "sleep 36000";

export function CarPanel({ index, sim, act, busy }: { index: number; sim: SimState; act: Act; busy: string | null }) {
  const [current, setCurrent] = useState("16");
  const [phases, setPhases] = useState("3");
  const [script, setScript] = useState("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 5;pause;sleep 36000");
  const car = (replace: boolean, text: string) => () => api(evsePath(index, "sim/car"), { body: { script: text, replace } });
  const draw = `draw_power_regulated ${Number(current)},${Number(phases)}`;
  // A fresh start may follow a script that still holds the car (409 otherwise): stop that one first.
  const fresh = (text: string) => async () => {
    await api(evsePath(index, "sim/car"), { method: "DELETE" });
    return car(false, text)();
  };
  const off = busy !== null;

  return (
    <section class="card car" aria-label="Simulated car">
      <h3>
        Simulated car <span class="pill">{sim.car.state}</span>
      </h3>
      <div class="field-row">
        <label>
          <span>Current</span>
          <input name="car-current" class="num" inputMode="decimal" value={current} onInput={(e) => setCurrent(e.currentTarget.value)} />
        </label>
        <label>
          <span>Phases</span>
          <select value={phases} onChange={(e) => setPhases(e.currentTarget.value)}>
            <option value="1">1</option>
            <option value="3">3</option>
          </select>
        </label>
        <span class="unit">A</span>
      </div>
      <div class="btn-row">
        <button type="button" class="btn primary" disabled={off} onClick={() => act({ verb: "Plug in", done: `Car plugged in; it will draw ${current} A on ${phases} phase${phases === "1" ? "" : "s"} once offered` }, fresh(`sleep 1;iec_wait_pwr_ready;sleep 1;${draw};${HOLD}`))}>
          Plug in
        </button>
        <button type="button" class="btn" disabled={off} onClick={() => act({ verb: `Charge at ${current} A`, done: `Car draws up to ${current} A on ${phases} phase${phases === "1" ? "" : "s"}` }, car(true, `${draw};${HOLD}`))}>
          Charge at {current} A
        </button>
        <button type="button" class="btn" disabled={off} onClick={() => act({ verb: "Pause car", done: "Car paused (CP B)" }, car(true, `pause;${HOLD}`))}>
          Pause car
        </button>
        <button type="button" class="btn danger" disabled={off} onClick={() => act({ verb: "Unplug", done: "Car unplugged" }, car(true, "unplug"))}>
          Unplug
        </button>
      </div>
      <label class="block">
        <span>Custom script</span>
        <textarea name="car-script" rows={2} spellcheck={false} value={script} onInput={(e) => setScript(e.currentTarget.value)} />
      </label>
      <div class="btn-row">
        <button type="button" class="btn" disabled={off} onClick={() => act({ verb: "Run script", done: "Script started from an unplugged car" }, fresh(script))}>
          Run (fresh)
        </button>
        <button type="button" class="btn" disabled={off} onClick={() => act({ verb: "Run script", done: "Script started from the car's present state" }, car(true, script))}>
          Run (continue)
        </button>
        <button type="button" class="btn" disabled={off} onClick={() => act({ verb: "Stop script", done: "Script stopped; the car stays as it is" }, () => api(evsePath(index, "sim/car"), { method: "DELETE" }))}>
          Stop script
        </button>
      </div>
      <p class="muted mono small" title={sim.car.script ?? ""}>
        {sim.car.running ? `running: ${sim.car.script}` : "no script running"}
      </p>
    </section>
  );
}
