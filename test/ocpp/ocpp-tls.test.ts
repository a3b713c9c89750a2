// Security profiles 2 and 3 (ocpp.md §1): wss:// to a CSMS whose certificate comes from a CA made
// at test time with openssl, basic auth on top (2) or a client certificate (3); a CSMS the CA does
// not vouch for is never talked to.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type TestServer } from "../helpers/server.ts";
import { slots, startCsms, type Csms } from "./csms.ts";

setDefaultTimeout(240_000);
const slot = slots(2);
const dir = mkdtempSync(join(tmpdir(), "ocpp-tls-"));
const f = (name: string) => join(dir, name);
const cleanup: (() => unknown)[] = [];

function openssl(...args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA; plus a stranger CA. */
beforeAll(() => {
  for (const ca of ["ca", "other-ca"]) {
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f(`${ca}.key`), "-out", f(`${ca}.pem`), "-days", "2", "-subj", `/CN=${ca}`);
  }
  writeFileSync(f("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=127.0.0.1");
  openssl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.pem"), "-days", "2", "-extfile", f("server.ext"));
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("client.key"), "-out", f("client.csr"), "-subj", "/CN=CP001");
  openssl("x509", "-req", "-in", f("client.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("client.pem"), "-days", "2");
});
afterAll(async () => {
  await Promise.allSettled(cleanup.map((x) => x()));
  rmSync(dir, { recursive: true, force: true });
});

async function up(csmsArgs: string[], ocpp: Record<string, unknown>): Promise<{ csms: Csms; srv: TestServer }> {
  const csms = await startCsms(csmsArgs);
  cleanup.push(() => csms.stop());
  const url = `wss://127.0.0.1:${csms.port}/ocpp`;
  const srv = await startServer({ config: { ocpp: { central_system_url: url, charge_point_id: "CP001", ...ocpp } }, waitReady: true, timeoutMs: 60_000, exe: "binary" });
  cleanup.push(() => srv.stop());
  return { csms, srv };
}

describe.concurrent("OCPP over TLS", () => {
  test("security profile 2: wss with the test CA and basic auth; boots and reports status", () =>
    slot(async () => {
      const { csms, srv } = await up(["--tls", f("server.pem"), f("server.key"), "--password", "profile-two-secret!"], {
        security_profile: 2,
        authorization_key: "profile-two-secret!",
        ca_file: f("ca.pem"),
      });
      await csms.waitCall("BootNotification", () => true, 30_000);
      await csms.waitCall("StatusNotification", (p) => p.connectorId === 1, 30_000);
      expect((await srv.get("/api/v1/ocpp")).body).toMatchObject({ connected: true, registration: "Accepted" });
    }));

  test("security profile 3: wss with a client certificate the CSMS checks", () =>
    slot(async () => {
      const { csms } = await up(["--tls", f("server.pem"), f("server.key"), "--client-ca", f("ca.pem")], {
        security_profile: 3,
        ca_file: f("ca.pem"),
        client_cert_file: f("client.pem"),
        client_key_file: f("client.key"),
      });
      const connected = await csms.waitFor((e) => e.type === "connected", 30_000);
      expect(connected.session).toEqual({ clientCertSubject: "CP001" });
      await csms.waitCall("BootNotification", () => true, 30_000);
    }));

  test("a CSMS certificate from another CA is refused: no message is sent, the error is visible, the charger still works", () =>
    slot(async () => {
      const { csms, srv } = await up(["--tls", f("server.pem"), f("server.key"), "--password", "profile-two-secret!"], {
        security_profile: 2,
        authorization_key: "profile-two-secret!",
        ca_file: f("other-ca.pem"),
      });
      await Bun.sleep(3000);
      expect((await csms.log()).filter((e) => e.type === "call")).toEqual([]);
      const state = (await srv.get("/api/v1/ocpp")).body;
      expect(state.connected).toBe(false);
      expect(state.last_error).toBeString();
      // (A starved machine can make the real-time worker restart once; it comes back.)
      for (let i = 0; i < 100 && (await srv.get("/healthz")).status !== 200; i++) await Bun.sleep(100);
      expect((await srv.get("/healthz")).status).toBe(200);
    }));
});
