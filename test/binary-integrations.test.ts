// The integrations from the compiled x64 binary, run the way a gateway runs it (alone in an empty
// directory, bare environment): a whole OCPP RFID session against the real CSMS (ocpp-rpc in
// strict mode under Node), UpdateFirmware with a correctly signed new binary under the
// supervisor, and the MQTT bridge with Home Assistant discovery against a real Mosquitto.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildInfo } from "../build.ts";
import { bareEnv, binary, cleanup, emptyDirWith, run, untilStatus, type RunningBinary } from "./binary-harness.ts";
import { freePort, startMosquitto, type Broker } from "./helpers/mosquitto.ts";
import { watch, type Watcher } from "./helpers/mqtt-watch.ts";
import { ocppConfig, RFID, startCsms, type Csms } from "./ocpp/csms.ts";

const E = "/api/v1/evses/1";
const PLUG_CHARGE = "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000";
const NEW_COMMIT = "bin-integrations-b";

const dirs: string[] = [];
const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.allSettled(stops.map((s) => s()));
  for (const d of dirs) cleanup(d);
}, 30_000);

let A: string; // the binary built from these sources
let B: string; // the same sources with another commit baked in: the new firmware
beforeAll(async () => {
  A = await binary("linux-x64");
  B = await binary("linux-x64", { ...buildInfo(), commit: NEW_COMMIT });
}, 120_000);

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

/** A copy of A alone in an empty dir with `config` as config.json, started with --port 0. */
async function startBinary(config: Record<string, unknown>): Promise<{ dir: string; srv: RunningBinary; url: string }> {
  const { dir, exe } = emptyDirWith(A);
  dirs.push(dir);
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  const srv = run([exe, "--port", "0", "--config", "config.json"], dir, bareEnv(dir));
  stops.push(() => srv.stop());
  const m = await srv.waitLine(/listening on (http:\/\/[^\s"]+)/, 20_000);
  return { dir, srv, url: m[1]! };
}

async function csmsStarted(): Promise<Csms> {
  const csms = await startCsms();
  stops.push(() => csms.stop());
  return csms;
}

/** No message the charge point sent failed the CSMS's schema validation. */
async function noSchemaFailures(csms: Csms): Promise<void> {
  expect((await csms.log()).filter((e) => e.type === "strict_failure")).toEqual([]);
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function cli(exe: string, args: string[], cwd: string): string {
  const r = Bun.spawnSync([exe, ...args], { cwd, env: bareEnv(cwd), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.toString();
}

describe.concurrent("compiled linux-x64 binary", () => {
  test("OCPP: Boot Accepted, StatusNotifications, an RFID session with MeterValues and both OCMF signed values in StopTransaction", async () => {
    const csms = await csmsStarted();
    const { url } = await startBinary(ocppConfig(csms, { MeterValueSampleInterval: 1 }));
    const boot = await csms.waitCall("BootNotification", () => true, 30_000);
    expect(boot).toMatchObject({ chargePointVendor: "evse-manager", chargePointModel: "evse-manager" });
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 0 && p.status === "Available", 20_000);
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 20_000);
    expect((await (await fetch(`${url}/api/v1/ocpp`)).json()) as any).toMatchObject({ configured: true, connected: true, registration: "Accepted" });

    expect((await post(`${url}${E}/sim/car`, { script: PLUG_CHARGE })).status).toBe(202);
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Preparing");
    expect((await post(`${url}/api/v1/tokens`, RFID("RFID0001"))).body).toEqual({ result: "Authorized", authorization_status: "Accepted", evse: 1 });
    expect(await csms.calls("Authorize")).toEqual([{ idTag: "RFID0001" }]);
    const start = await csms.waitCall("StartTransaction");
    expect(start).toMatchObject({ connectorId: 1, idTag: "RFID0001" });
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Charging");
    const mv = await csms.waitCall("MeterValues", (p) => p.transactionId === 1000);
    expect(mv.connectorId).toBe(1);
    expect(mv.meterValue[0].sampledValue.length).toBeGreaterThan(0);

    expect((await post(`${url}/api/v1/tokens`, RFID("RFID0001"))).body).toEqual({ result: "Stopped", authorization_status: null, evse: 1 });
    const stop = await csms.waitCall("StopTransaction");
    expect(stop).toMatchObject({ transactionId: 1000, reason: "Local", idTag: "RFID0001" });
    expect(stop.meterStop).toBeGreaterThanOrEqual(start.meterStart);
    const signed = stop.transactionData.flatMap((m: any) => m.sampledValue).filter((s: any) => s.format === "SignedData");
    expect(signed.map((s: any) => s.context)).toEqual(["Transaction.Begin", "Transaction.End"]);
    expect(signed.every((s: any) => s.value.startsWith("OCMF|"))).toBe(true);
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Finishing");
    await noSchemaFailures(csms);
  }, 60_000);

  test("OCPP UpdateFirmware under the supervisor: a tampered file is refused (InstallationFailed, nothing replaced); a correctly signed binary is downloaded, installed and serves afterwards (Installed after the new boot)", async () => {
    const TOKEN = "bin-integrations-token";
    const csms = await csmsStarted();
    const { dir, exe } = emptyDirWith(A);
    dirs.push(dir);
    // The new firmware and its detached signature, made by the binary's own sign-update.
    const fw = join(dir, "fw", "evse-manager.bin");
    Bun.spawnSync(["mkdir", "-p", join(dir, "fw")]);
    copyFileSync(B, fw);
    const publicKey = /update\.public_key: (\S+)/.exec(cli(exe, ["sign-update", "--generate-key", join(dir, "fw", "key.pem")], dir))![1]!;
    cli(exe, ["sign-update", "--key", join(dir, "fw", "key.pem"), fw, "--out", `${fw}.sig`], dir);
    // The same file with one byte changed, served with the genuine signature.
    const tampered = readFileSync(fw);
    tampered[tampered.length >> 1]! ^= 0xff;
    const served: string[] = [];
    const http = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const path = new URL(req.url).pathname;
        served.push(path);
        if (path === "/fw/evse-manager.bin") return new Response(Bun.file(fw));
        if (path === "/fw/evse-manager.bin.sig" || path === "/fw/tampered.bin.sig") return new Response(Bun.file(`${fw}.sig`));
        if (path === "/fw/tampered.bin") return new Response(tampered);
        return new Response("no", { status: 404 });
      },
    });
    stops.push(async () => http.stop(true));

    const port = await freePort();
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify(ocppConfig(csms, {}, { api: { port, token: TOKEN }, update: { public_key: publicKey, health_timeout_s: 30 } })),
    );
    const sup = run([exe, "supervise", "--config", "config.json"], dir, bareEnv(dir));
    stops.push(() => sup.stop());
    const base = `http://127.0.0.1:${port}`;
    await untilStatus(`${base}/healthz`, 20_000);
    const oldVersion = cli(exe, ["--version"], dir).trim();
    expect(oldVersion).not.toContain(NEW_COMMIT);
    await csms.waitCall("StatusNotification", (p) => p.connectorId === 1 && p.status === "Available", 20_000);

    const firmwareAt = (name: string) => `http://127.0.0.1:${http.port}/fw/${name}`;
    const charger = Number((await sup.waitLine(/started .* \(pid (\d+)\)/))[1]);
    const memoryMb = (field: "VmRSS" | "VmHWM") => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${charger}/status`, "utf8"))![1]) / 1024;
    const rssBefore = memoryMb("VmRSS");
    expect((await csms.call("UpdateFirmware", { location: firmwareAt("tampered.bin"), retrieveDate: new Date().toISOString(), retries: 0 })).result).toEqual({});
    await csms.waitCall("FirmwareStatusNotification", (p) => p.status === "InstallationFailed", 60_000);
    await sup.waitLine(/firmware not installed: bad_signature/);
    expect(cli(exe, ["--version"], dir).trim()).toBe(oldVersion);
    // The download went to disk as it arrived: the charger's peak memory never held the file.
    expect(tampered.byteLength).toBeGreaterThan(50 * 1024 * 1024);
    expect(memoryMb("VmHWM") - rssBefore).toBeLessThan(40);
    expect(existsSync(`${exe}.download`)).toBe(false);

    expect((await csms.call("UpdateFirmware", { location: firmwareAt("evse-manager.bin"), retrieveDate: new Date().toISOString(), retries: 0 })).result).toEqual({});
    await csms.waitCall("FirmwareStatusNotification", (p) => p.status === "Installed", 60_000);
    const fwStatuses = (await csms.calls("FirmwareStatusNotification")).map((p) => p.status);
    expect(fwStatuses).toEqual(["Downloading", "Downloaded", "Installing", "InstallationFailed", "Downloading", "Downloaded", "Installing", "Installed"]);
    expect(served).toEqual(["/fw/tampered.bin", "/fw/tampered.bin.sig", "/fw/evse-manager.bin", "/fw/evse-manager.bin.sig"]);
    const trial = await sup.waitLine(/new binary on trial \(pid (\d+)\)/);
    await sup.waitLine(/update committed/, 30_000);

    // The new binary is the file in place (its version names the new commit) and the process
    // serving (its inode), and it booted again at the CSMS.
    const newVersion = cli(exe, ["--version"], dir).trim();
    expect(newVersion).not.toBe(oldVersion);
    expect(newVersion).toContain(`(commit ${NEW_COMMIT})`);
    expect(statSync(`/proc/${trial[1]}/exe`).ino).toBe(statSync(exe).ino);
    expect(sha(exe)).toBe(sha(B));
    expect(sha(`${exe}.previous`)).toBe(sha(A));
    expect((await csms.calls("BootNotification")).length).toBe(2);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await noSchemaFailures(csms);
  }, 90_000);

  describe("MQTT against a real Mosquitto", () => {
    let broker: Broker;
    beforeAll(async () => {
      broker = await startMosquitto();
      stops.push(() => broker.stop());
    });

    test("availability online retained, §1 status, HA discovery, a command answered on …/result, offline at SIGTERM", async () => {
      const P = `bin/${crypto.randomUUID().slice(0, 8)}`;
      const { url, srv } = await startBinary({
        disable_authentication: true,
        mqtt: { url: broker.url, username: broker.username, password: broker.password, topic_prefix: P },
      });
      // Subscribed once the bridge is up: everything arrives as the broker retained it.
      const end = Date.now() + 15_000;
      while (!/^evse_mqtt_connected 1$/m.test(await (await fetch(`${url}/metrics`)).text())) {
        if (Date.now() > end) throw new Error(`the bridge did not connect; output:\n${srv.output.join("\n")}`);
        await Bun.sleep(100);
      }
      const w: Watcher = await watch(broker, [`${P}/#`, "homeassistant/#"]);
      stops.push(() => w.close());

      const online = await w.waitFor((m) => m.topic === `${P}/availability`, 5000, "availability");
      expect(online.text).toBe("online");
      expect(online.retain).toBe(true);
      const status = await w.waitFor((m) => m.topic === `${P}/evse/1/status`, 5000, "status");
      expect(status.retain).toBe(true);
      expect(status.json).toMatchObject({ evse: 1, cp: "A", plugged: false, charging: false, enabled: true });
      for (const key of ["state", "offered_current_A", "max_current_A", "phases", "power_W", "session_energy_Wh", "total_energy_Wh", "current_A", "voltage_V", "session_uuid", "id_tag", "errors"]) {
        expect(status.json).toHaveProperty(key);
      }
      // The §1 object as GET …/status has it, plus the EVSE index.
      const { evse, ...summary } = status.json;
      expect(evse).toBe(1);
      expect(Object.keys(summary).sort()).toEqual(Object.keys((await (await fetch(`${url}${E}/status`)).json()) as object).sort());

      // Home Assistant discovery: retained configs of one device for EVSE 1, on our availability topic.
      const number = await w.waitFor((m) => /^homeassistant\/number\/[^/]+\/evse1_max_current\/config$/.test(m.topic), 5000, "discovery number");
      const configs = w.messages.filter((m) => m.topic.startsWith("homeassistant/") && m.topic.endsWith("/config") && m.json?.availability_topic === `${P}/availability`);
      expect(configs.length).toBeGreaterThanOrEqual(10);
      for (const c of configs) {
        expect(c.retain).toBe(true);
        expect(c.json.unique_id).toEqual(expect.any(String));
        expect(c.json.device.identifiers.length).toBeGreaterThan(0);
        expect(c.json.state_topic ?? c.json.command_topic).toStartWith(`${P}/`);
      }
      expect(number.json.command_topic).toBe(`${P}/evse/1/control/max_current_A/set`);

      // A command over MQTT is answered on …/result as over HTTP.
      await w.publish(`${P}/evse/1/cmd/get_evse`, "{}");
      const result = await w.waitFor((m) => m.topic === `${P}/evse/1/cmd/get_evse/result`, 5000, "get_evse result");
      expect(result.json).toEqual((await post(`${url}${E}/commands/get_evse`, {})).body);
      expect(result.json.result.id).toBe(1);

      // SIGTERM: `offline`, retained.
      expect(await srv.stop()).toBe(0);
      const offline = await w.waitFor((m) => m.topic === `${P}/availability` && m.text === "offline", 5000, "offline at SIGTERM");
      expect(offline.retain).toBe(true);
    }, 60_000);
  });
});
