// GET /api/v1/mqtt: the MQTT bridge's connection as the dashboard and an operator read it, against
// the real program and a real Mosquitto: not configured, connected (the broker named without its
// credentials), reconnecting with the reason after the broker dies, and a closed port.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort, startMosquitto, type Broker } from "./helpers/mosquitto.ts";
import { startServer, type TestServer } from "./helpers/server.ts";
import { until } from "./helpers/until.ts";

let broker: Broker;
const servers: TestServer[] = [];
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await broker?.stop();
});

async function start(config: Record<string, unknown>) {
  const s = await startServer({ exe: "binary", config });
  servers.push(s);
  return s;
}

const KEYS = ["broker", "configured", "connected", "dropped", "last_error", "queued"];

describe("GET /api/v1/mqtt", () => {
  test("without mqtt.url: not configured, no broker, nothing queued", async () => {
    const srv = await start({});
    const res = await srv.get("/api/v1/mqtt");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ configured: false, connected: false, broker: null, last_error: null, queued: 0, dropped: 0 });
    const post = await srv.post("/api/v1/mqtt", {});
    expect(post.status).toBe(405);
    expect(post.body.error).toBe("method_not_allowed");
  });

  test("connected to a real broker: names it as scheme://host:port without user or password; after the broker dies, reconnecting with the reason", async () => {
    // The credentials also sit in the URL, where an operator might put them: they must not show.
    const url = `mqtt://${broker.username}:${broker.password}@127.0.0.1:${broker.port}`;
    const srv = await start({ mqtt: { url, topic_prefix: `t/${crypto.randomUUID().slice(0, 8)}` } });
    const up = await until("connected", () => srv.get("/api/v1/mqtt"), (r) => r.body.connected === true);
    expect(up.status).toBe(200);
    expect(Object.keys(up.body).sort()).toEqual(KEYS);
    expect(up.body).toMatchObject({ configured: true, connected: true, broker: `mqtt://127.0.0.1:${broker.port}`, last_error: null });
    expect(up.body.queued).toBeGreaterThanOrEqual(0);
    expect(up.body.dropped).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(up.body)).not.toContain(broker.password);

    await broker.kill();
    try {
      const down = await until("disconnected", () => srv.get("/api/v1/mqtt"), (r) => r.body.connected === false);
      expect(down.body.configured).toBe(true);
      const reason = await until("a reason", () => srv.get("/api/v1/mqtt"), (r) => typeof r.body.last_error === "string" && r.body.last_error !== "");
      expect(reason.body.connected).toBe(false);
    } finally {
      await broker.start();
    }
    await until("connected again", () => srv.get("/api/v1/mqtt"), (r) => r.body.connected === true && r.body.last_error === null, 40_000);
  }, 60_000);

  test("a broker port nobody listens on: configured, not connected, the refusal as last_error", async () => {
    const port = await freePort();
    const srv = await start({ mqtt: { url: `mqtt://127.0.0.1:${port}` } });
    const res = await until("an error", () => srv.get("/api/v1/mqtt"), (r) => r.body.last_error !== null);
    expect(res.body).toMatchObject({ configured: true, connected: false, broker: `mqtt://127.0.0.1:${port}` });
    expect(res.body.last_error).toMatch(/ECONNREFUSED|refused/i);
  });
});

// What the dashboard says beside the MQTT badge: "Site share 6.6 A of 32 A" needs the site limit.
describe("GET …/status and the site limit", () => {
  test("the status summary names site.max_current_A beside the EVSE's share, null without a site limit", async () => {
    const srv = await start({ site: { max_current_A: 32 }, evses: [{ evse_id: "DE*TST*E1" }, { evse_id: "DE*TST*E2" }] });
    for (const i of [1, 2]) {
      const s = await srv.get(`/api/v1/evses/${i}/status`);
      expect(s.status).toBe(200);
      expect(s.body.site_max_current_A).toBe(32);
    }
    const alone = await start({});
    expect((await alone.get("/api/v1/evses/1/status")).body.site_max_current_A).toBeNull();
  });
});
