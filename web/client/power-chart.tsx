/** @jsxImportSource preact */
// The last 15 minutes of power, current per phase and the current the PWM offers, drawn with
// uPlot (canvas, bundled into the executable with its stylesheet). Samples are taken from the
// page's live data whenever the meter publishes, so the chart starts when the page opens.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";

export const WINDOW_S = 15 * 60;

export interface Sample {
  /** Seconds since the epoch. */
  t: number;
  kW: number | null;
  L1: number | null;
  L2: number | null;
  L3: number | null;
  offeredA: number | null;
}

/** Appends `s` and drops samples older than the window; a pure helper, so the view stays simple. */
export function addSample(samples: readonly Sample[], s: Sample, windowS = WINDOW_S): Sample[] {
  const from = s.t - windowS;
  const kept = samples.filter((x) => x.t >= from && x.t < s.t);
  kept.push(s);
  return kept;
}

/** Keeps the samples, one per change of `meter` (a new powermeter publication) or of the offer. */
export function usePowerSeries(meter: unknown, offeredA: number | null): Sample[] {
  const [samples, setSamples] = useState<Sample[]>([]);
  useEffect(() => {
    const m = meter as { power_W?: { total?: number }; current_A?: { L1?: number; L2?: number; L3?: number } } | undefined;
    if (!m && offeredA === null) return;
    const num = (x: number | undefined) => (typeof x === "number" ? x : null);
    const w = num(m?.power_W?.total);
    setSamples((old) =>
      addSample(old, { t: Date.now() / 1000, kW: w === null ? null : w / 1000, L1: num(m?.current_A?.L1), L2: num(m?.current_A?.L2), L3: num(m?.current_A?.L3), offeredA }),
    );
  }, [meter, offeredA]);
  return samples;
}

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";

export function PowerChart({ samples }: { samples: Sample[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  const data = (): uPlot.AlignedData => [
    samples.map((s) => s.t),
    samples.map((s) => s.kW),
    samples.map((s) => s.L1),
    samples.map((s) => s.L2),
    samples.map((s) => s.L3),
    samples.map((s) => s.offeredA),
  ];

  useEffect(() => {
    const el = box.current!;
    const width = Math.max(200, el.clientWidth);
    const opts: uPlot.Options = {
      width,
      height: 220,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, kW: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] }, A: { range: (_u, _min, max) => [0, Math.max(6, max * 1.1)] } },
      series: [
        {},
        { label: "Power", scale: "kW", stroke: css("--active"), width: 2, fill: "rgba(15,118,110,0.08)", value: (_u, v) => (v == null ? "—" : `${v.toFixed(2)} kW`) },
        { label: "L1", scale: "A", stroke: "#b45309", width: 1, value: (_u, v) => (v == null ? "—" : `${v.toFixed(1)} A`) },
        { label: "L2", scale: "A", stroke: "#1d4ed8", width: 1, value: (_u, v) => (v == null ? "—" : `${v.toFixed(1)} A`) },
        { label: "L3", scale: "A", stroke: "#7c3aed", width: 1, value: (_u, v) => (v == null ? "—" : `${v.toFixed(1)} A`) },
        { label: "Offered (PWM)", scale: "A", stroke: css("--bad"), width: 1.5, dash: [6, 4], value: (_u, v) => (v == null ? "—" : `${v.toFixed(1)} A`) },
      ],
      axes: [
        { stroke: css("--muted") },
        { scale: "kW", stroke: css("--muted"), values: (_u, ticks) => ticks.map((v) => `${v} kW`), size: 60 },
        { scale: "A", side: 1, stroke: css("--muted"), grid: { show: false }, values: (_u, ticks) => ticks.map((v) => `${v} A`), size: 50 },
      ],
    };
    const u = new uPlot(opts, data(), el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data());
  }, [samples]);

  return (
    <section class="card chart" aria-label="Power and current">
      <h3>
        Power and current <span class="muted small plain">last 15 minutes</span>
      </h3>
      <div ref={box} class="chart-box" data-points={samples.length} />
      {samples.length < 2 ? <p class="muted small">The chart fills while the page is open: one point per meter reading.</p> : null}
    </section>
  );
}
