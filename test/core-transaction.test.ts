// The transaction lifecycle around the meter and the persistent record (behavior.md §5.3, §5.4,
// §16.1, §16.3 [D7]), with a fake meter, an in-memory store and an injected clock.
import { describe, expect, test } from "bun:test";
import { defaultEvseConfig, type EvseConfig } from "../core/config/index.ts";
import { Transaction } from "../core/transaction.ts";
import type { Powermeter, ProvidedIdToken, SessionEvent, SignedMeterValue } from "../core/types/index.ts";
import { FakeClock, FakeMeter, MemoryStore, T0 } from "./kernel-harness.ts";

const TOKEN: ProvidedIdToken = { id_token: { value: "TAG1", type: "ISO14443" }, authorization_type: "RFID" };
const SIGNED: SignedMeterValue = { signed_meter_data: "OCMF|{}", signing_method: "ECDSA", encoding_method: "OCMF" };

function reading(wh: number, at: number): Powermeter {
  return { timestamp: new Date(at).toISOString(), energy_Wh_import: { total: wh } };
}

function setup(config: Partial<EvseConfig> = {}) {
  const clock = new FakeClock();
  const meter = new FakeMeter();
  const store = new MemoryStore();
  const lines: string[] = [];
  let latest: Powermeter | null = null;
  const tx = new Transaction({
    clock,
    config: { ...defaultEvseConfig(), ...config },
    meter,
    store,
    log: (line) => lines.push(line),
    latestMeter: () => latest,
  });
  return { clock, meter, store, lines, tx, setLatest: (m: Powermeter) => (latest = m) };
}

describe("transaction lifecycle", () => {
  test("start asks the meter with the session uuid and the token's OCMF identification", async () => {
    const { meter, tx } = setup();
    expect(await tx.startMeter("S1", TOKEN)).toBe(true);
    expect(meter.starts).toHaveLength(1);
    expect(meter.starts[0]).toMatchObject({ transaction_id: "S1", identification_type: "ISO14443", identification_data: "TAG1" });
  });

  test("UNEXPECTED_ERROR fails the start only with fail_on_powermeter_errors", async () => {
    const strict = setup({ fail_on_powermeter_errors: true });
    strict.meter.startResponse = { status: "UNEXPECTED_ERROR" };
    expect(await strict.tx.startMeter("S1", TOKEN)).toBe(false);
    const lenient = setup({ fail_on_powermeter_errors: false });
    lenient.meter.startResponse = { status: "UNEXPECTED_ERROR" };
    expect(await lenient.tx.startMeter("S1", TOKEN)).toBe(true);
  });

  test("the record is written at the start, refreshed every 5 s with the latest reading, gone at the stop", async () => {
    const { clock, meter, store, tx, setLatest } = setup();
    const start = reading(100, T0);
    tx.open("S1", TOKEN, start);
    tx.setReservationId(4);
    expect(store.record).toMatchObject({ uuid: "S1", id_tag: TOKEN, start_meter_value: start, reservation_id: 4 });
    setLatest(reading(150, T0 + 4000));
    clock.t = T0 + 4000;
    tx.refreshIfDue();
    expect(store.record?.latest_meter_value.energy_Wh_import.total).toBe(100);
    clock.t = T0 + 5000;
    tx.refreshIfDue();
    expect(store.record?.latest_meter_value.energy_Wh_import.total).toBe(150);
    meter.stopResponse = { status: "OK", start_signed_meter_value: SIGNED, signed_meter_value: SIGNED };
    expect(await tx.stop("S1")).toEqual({ start_signed_meter_value: SIGNED, signed_meter_value: SIGNED });
    expect(meter.stops).toEqual(["S1"]);
    expect(store.record).toBeNull();
    tx.refresh();
    expect(store.record).toBeNull();
  });

  test("a stop the meter refuses keeps no signed values and logs the status", async () => {
    const { lines, tx } = setup();
    tx.open("S1", TOKEN, reading(0, T0));
    expect(await tx.stop("S1")).toEqual({});
    expect(lines).toEqual(["powermeter stop_transaction: NOT_SUPPORTED (fake)"]);
  });

  test("D7: a stored record ends with PowerLoss carrying its uuid, token and last reading; the meter closes it and everything else", async () => {
    const { meter, store, tx } = setup();
    tx.open("S1", TOKEN, reading(100, T0));
    meter.stopResponse = { status: "OK", signed_meter_value: SIGNED };
    const events: SessionEvent[] = [];
    expect(await tx.finishInterrupted((e) => events.push(e))).toBe("S1");
    expect(meter.stops).toEqual(["S1", ""]);
    expect(store.record).toBeNull();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      uuid: "S1",
      event: "TransactionFinished",
      transaction_finished: { reason: "PowerLoss", id_tag: TOKEN, signed_meter_value: SIGNED, meter_value: { energy_Wh_import: { total: 100 } } },
    });
  });

  test("without a record the boot only sends stop_transaction(\"\") and emits nothing", async () => {
    const { meter, tx } = setup();
    const events: SessionEvent[] = [];
    expect(await tx.finishInterrupted((e) => events.push(e))).toBeNull();
    expect(meter.stops).toEqual([""]);
    expect(events).toEqual([]);
  });
});
