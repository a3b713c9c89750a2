// Inbound fuzz (ocpp.md §8): 10,000 random or malformed frames straight onto the CSMS's WebSocket
// (bad JSON, wrong types, unknown actions, bad message types, huge payloads) while a car charges.
// Every CALL-like frame gets exactly one CALLERROR with an OCPP-J 1.6 error code, frames that need
// no answer get none, the process keeps running, nothing changes and charging is not disturbed.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server.ts";
import { ocppConfig, RFID, startCsms, type Csms } from "./csms.ts";

setDefaultTimeout(300_000);
const started: (Csms | TestServer)[] = [];
afterAll(async () => {
  await Promise.allSettled(started.map((x) => x.stop()));
});

/** OCPP-J 1.6 §4.2.3 (with the errata's OccurrenceConstraintViolation spelling). */
const CODES_1_6 = new Set([
  "NotImplemented",
  "NotSupported",
  "InternalError",
  "ProtocolError",
  "SecurityError",
  "FormationViolation",
  "PropertyConstraintViolation",
  "OccurrenceConstraintViolation",
  "OccurenceConstraintViolation",
  "TypeConstraintViolation",
  "GenericError",
]);

/** Deterministic PRNG (mulberry32): a failing run can be repeated. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = ["Reset", "ChangeConfiguration", "RemoteStartTransaction", "RemoteStopTransaction", "ChangeAvailability", "UnlockConnector", "ReserveNow", "SetChargingProfile", "SendLocalList", "TriggerMessage", "UpdateFirmware", "GetCompositeSchedule"];
const JUNK: unknown[] = [null, true, 0, -1, 1.5, "x", "", [], {}, [1, 2], { a: 1 }, 1e308];

type Expect = { id: string | null; code?: string };

function frame(r: () => number, n: number): { text: string; expect: Expect } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const id = `fz-${n}`;
  switch (Math.floor(r() * 9)) {
    case 0: // not JSON at all
      return { text: pick(["", "{", "[2,", "nojson", "[2,\"a\",\"Reset\",{]", "\u0000\u0001", "[[[[[[["]) + String(n), expect: { id: "-1", code: "FormationViolation" } };
    case 1: // JSON, but not an OCPP-J frame
      return { text: JSON.stringify(pick([{}, "str", 42, null, { "0": 2 }])), expect: { id: "-1", code: "FormationViolation" } };
    case 2: // message id of the wrong type
      return { text: JSON.stringify([2, pick([1, null, {}, []]), "Reset", { type: "Soft" }]), expect: { id: "-1", code: "FormationViolation" } };
    case 3: // unknown action
      return { text: JSON.stringify([2, id, `Foo${Math.floor(r() * 1000)}`, {}]), expect: { id, code: "NotImplemented" } };
    case 4: // known action, payload of the wrong type
      return { text: JSON.stringify([2, id, pick(ACTIONS), pick(JUNK.filter((j) => typeof j !== "object" || j === null || Array.isArray(j)))]), expect: { id, code: "TypeConstraintViolation" } };
    case 5: // known action, required fields missing
      return { text: JSON.stringify([2, id, pick(ACTIONS), {}]), expect: { id } };
    case 6: // known action, fields of the wrong type or out of range
      return {
        text: JSON.stringify([
          2,
          id,
          pick(ACTIONS),
          pick([{ type: 5 }, { key: [], value: {} }, { connectorId: "one", idTag: 7 }, { transactionId: "x" }, { connectorId: -1, type: "Sideways" }, { idTag: "X".repeat(21) }, { requestedMessage: "Everything" }]),
        ]),
        expect: { id },
      };
    case 7: // unknown message type
      return { text: JSON.stringify([pick([0, 1, 5, 9, -2]), id, "Reset", {}]), expect: { id, code: "NotSupported" } };
    default: // CALLRESULT / CALLERROR for calls never made: no answer
      return { text: JSON.stringify(pick([[3, id, {}], [4, id, "GenericError", "", {}]])), expect: { id: null } };
  }
}

test("10,000 random and malformed CSMS frames: correct CALLERRORs, no crash, no state change, charging unaffected", async () => {
  const csms = await startCsms();
  started.push(csms);
  const srv = await startServer({ config: ocppConfig(csms), waitReady: true, timeoutMs: 60_000, exe: "binary" });
  started.push(srv);
  await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 30_000);
  await srv.post("/api/v1/evses/1/sim/car", { script: "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000" });
  await csms.waitCall("StatusNotification", (p) => p.status === "Preparing");
  await srv.post("/api/v1/tokens", RFID("RFID0001"));
  await csms.waitCall("StatusNotification", (p) => p.status === "Charging");
  const configBefore = (await csms.call("GetConfiguration", {})).result;

  const r = rng(0x0c99);
  const all: { text: string; expect: Expect }[] = [];
  for (let n = 0; n < 10_000; n++) all.push(frame(r, n));
  // A few huge ones: an unknown action and a known one with a 2 MB string in the wrong place.
  all.push({ text: JSON.stringify([2, "huge-1", "Foo", { blob: "x".repeat(2 * 1024 * 1024) }]), expect: { id: "huge-1", code: "NotImplemented" } });
  all.push({ text: JSON.stringify([2, "huge-2", "ChangeConfiguration", { key: "HeartbeatInterval", value: "9".repeat(2 * 1024 * 1024) }]), expect: { id: "huge-2" } });

  for (let i = 0; i < all.length; i += 1000) await csms.raw(all.slice(i, i + 1000).map((f) => f.text), 50);
  const wanted = all.filter((f) => f.expect.id !== null).length;
  // Replies to the fuzz (the charge point's own calls carry uuids, never "fz-"/"huge-"/"-1"), as the CSMS received them.
  const fuzzReplies = async () =>
    (await csms.log())
      .filter((e) => e.type === "frame")
      .map((e) => JSON.parse(e.frame!) as unknown[])
      .filter((f) => (f[0] === 3 || f[0] === 4) && /^(fz-|huge-|-1$)/.test(String(f[1])));
  let answers = await fuzzReplies();
  for (let i = 0; i < 600 && answers.length < wanted; i++) {
    await Bun.sleep(100);
    answers = await fuzzReplies();
  }
  await Bun.sleep(500);
  answers = await fuzzReplies();
  const byId = new Map<string, unknown[][]>();
  for (const a of answers) byId.set(String(a[1]), [...(byId.get(String(a[1])) ?? []), a]);

  let anonymous = 0;
  for (const f of all) {
    if (f.expect.id === null) {
      continue;
    }
    if (f.expect.id === "-1") {
      anonymous++;
      continue;
    }
    const got = byId.get(f.expect.id) ?? [];
    expect({ frame: f.text.slice(0, 120), replies: got.length }).toEqual({ frame: f.text.slice(0, 120), replies: 1 });
    const reply = got[0]!;
    expect(reply[0]).toBe(4);
    expect(CODES_1_6.has(String(reply[2]))).toBe(true);
    if (f.expect.code) expect({ frame: f.text.slice(0, 120), code: reply[2] }).toEqual({ frame: f.text.slice(0, 120), code: f.expect.code });
    expect(JSON.stringify(reply).length).toBeLessThan(1000); // never echoes a payload back
  }
  for (const f of all.filter((x) => x.expect.id === null)) expect(byId.has(f.text.match(/fz-\d+/)![0])).toBe(false);
  const unattributed = byId.get("-1") ?? [];
  expect(unattributed.length).toBe(anonymous);
  expect(unattributed.every((a) => a[2] === "FormationViolation")).toBe(true);

  // Nothing changed, nothing crashed, the car still charges in the same transaction.
  expect((await srv.get("/healthz")).status).toBe(200);
  expect((await srv.get("/api/v1/ocpp")).body).toMatchObject({ connected: true, registration: "Accepted" });
  expect((await csms.call("GetConfiguration", {})).result).toEqual(configBefore);
  expect((await srv.get("/api/v1/evses/1/sim")).body.relays_closed).toBe(true);
  expect(await csms.calls("StopTransaction")).toEqual([]);
  expect((await csms.log()).filter((e) => e.type === "disconnected")).toEqual([]);
  expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
});
