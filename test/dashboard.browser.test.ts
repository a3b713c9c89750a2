// The web dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core
// against the real program. A person's session from the page alone: plug the simulated car in,
// authorize, watch it charge (and the chart fill), pause, unplug, find the session in the history
// with verified OCMF records; a fault while charging shows Faulted with the reason; four EVSEs fit
// a phone and a desktop without horizontal scrolling. Also takes the README's screenshots.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { startMosquitto } from "./helpers/mosquitto.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
// docs/dashboard*.png are committed: a test run rewriting them would leave every checkout modified
// (and build.ts would then stamp the version "-dirty"). They are refreshed on request only:
//   DASHBOARD_SCREENSHOTS=docs bun test test/dashboard.browser.test.ts
const SHOT_DIR = process.env.DASHBOARD_SCREENSHOTS ? resolve(process.env.DASHBOARD_SCREENSHOTS) : null;

/** Takes a screenshot (always, so the states are rendered) and keeps it only when asked to. */
async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  const path = SHOT_DIR ? join(SHOT_DIR, name) : join(tmpdir(), `evse-${process.pid}-${name}`);
  await page.screenshot({ path, fullPage });
  expect(statSync(path).size).toBeGreaterThan(10_000);
  if (!SHOT_DIR) rmSync(path);
}
const FLOW_TIMEOUT_MS = 60_000;

let browser: Browser;
const servers: TestServer[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard test needs Debian's Chromium (apt-get update && apt-get install -y chromium)`);
  }
  // launch() gives Chromium a fresh temporary --user-data-dir of its own (and removes it on close).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.stop()));
});

async function start(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer({ exe: "binary", ...args[0] });
  servers.push(s);
  return s;
}

async function openPage(url: string, viewport = { width: 1440, height: 900 }): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    // The page asks once for GET /api/v1/ocpp; a server built without OCPP answers 404 and is not asked again.
    const ocppMissing = /status of 404/.test(msg.text()) && /\/api\/v1\/ocpp(\/connectors)?$/.test(msg.location().url);
    if (msg.type() === "error" && !ocppMissing && !/401|Unauthorized|status of 503/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  return { page, problems };
}

/** Waits until the element's visible text matches; the message says what was there instead. */
async function waitText(locator: Locator, want: RegExp, timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    last = (await locator.innerText().catch(() => "")).trim();
    if (want.test(last)) return last;
    if (Date.now() > end) throw new Error(`expected text ${want} within ${timeoutMs} ms, saw "${last}"`);
    await Bun.sleep(100);
  }
}

const tileValue = (page: Page, name: string) => page.locator(`[data-tile="${name}"] .tile-value`);

/** "12.3 Wh" / "1.234 kWh" → Wh. */
function parseEnergy(text: string): number {
  const m = /([\d.]+)\s*(k?)Wh/.exec(text);
  if (!m) throw new Error(`not an energy figure: "${text}"`);
  return Number(m[1]) * (m[2] === "k" ? 1000 : 1);
}

const noHorizontalScroll = (page: Page) =>
  page.evaluate<{ scroll: number; client: number }>("({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })");

async function expectNoHorizontalScroll(page: Page, what: string): Promise<void> {
  const { scroll, client } = await noHorizontalScroll(page);
  if (scroll > client) throw new Error(`${what}: the page is ${scroll} px wide in a ${client} px window`);
}

describe("web dashboard in Chromium", () => {
  test(
    "plugs in, authorizes, charges with rising energy and a filling chart, pauses, unplugs, and finds the session in the history with verified OCMF",
    async () => {
      const srv = await start({ waitReady: true });
      const { page, problems } = await openPage(srv.url + "/");
      const evse = page.locator('[data-evse="1"]');
      const status = evse.locator(".evse-head [data-status]");
      const reason = evse.locator(".evse-head [data-reason]");

      // First paint: no "unreachable" badge beside "Loading…", and no token box without a 401.
      expect(await page.locator("[data-health]").innerText()).not.toBe("unreachable");
      expect(await page.locator('input[name="api-token"]').count()).toBe(0);

      await waitText(status, /^Available$/);
      await waitText(tileValue(page, "cp"), /^State A$/);
      await waitText(evse.locator(".log"), /Enabled/);
      await waitText(page.locator("[data-health]"), /^healthy$/);

      await evse.getByRole("button", { name: "Plug in" }).click();
      await waitText(status, /^Occupied$/);
      await waitText(reason, /waiting for authorization/);
      await waitText(evse.locator(".outcome"), /^Car plugged in; it will draw 16 A on 3 phases once offered$/);
      await waitText(tileValue(page, "cp"), /^State B$/);
      await waitText(tileValue(page, "lock"), /^Locked$/);

      const tokenField = evse.locator('input[name="id-token"]');
      await tokenField.fill("");
      await tokenField.type("RFID0042");
      await evse.getByRole("button", { name: "Authorize" }).click();
      await waitText(evse.locator(".outcome"), /^Authorized RFID0042 \(ISO14443\)$/);
      await waitText(status, /^Charging$/);
      await waitText(tileValue(page, "relays"), /^Closed$/);
      await waitText(tileValue(page, "cp"), /^State C$/);
      expect(await tileValue(page, "pwm").innerText()).toMatch(/%$/);
      await waitText(tileValue(page, "power"), /^[1-9][\d.]* kW$/);
      await waitText(reason, /^[1-9][\d.]* kW, 3 phases$/);
      expect(await evse.locator(".evse-head").innerText()).toContain("token RFID0042");

      const first = parseEnergy(await waitText(tileValue(page, "energy"), /Wh$/));
      const end = Date.now() + 15_000;
      let later = first;
      while (later <= first && Date.now() < end) {
        await Bun.sleep(250);
        later = parseEnergy(await tileValue(page, "energy").innerText());
      }
      expect(later).toBeGreaterThan(first);

      // The chart: uPlot draws a canvas and the box counts the samples it holds.
      const chart = evse.locator(".chart-box");
      expect(await chart.locator("canvas").count()).toBeGreaterThan(0);
      const pointsEnd = Date.now() + 15_000;
      while (Number(await chart.getAttribute("data-points")) < 4 && Date.now() < pointsEnd) await Bun.sleep(250);
      expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThanOrEqual(4);
      expect(await evse.locator(".chart .u-legend").innerText()).toMatch(/Power[\s\S]*L1[\s\S]*L2[\s\S]*L3[\s\S]*Offered \(PWM\)/i);

      await evse.locator(".controls").getByRole("button", { name: "Pause", exact: true }).click();
      await waitText(status, /^Paused by charger$/);
      await waitText(tileValue(page, "relays"), /^Open$/);
      await waitText(evse.locator(".outcome"), /^Charging paused by the charger$/);

      const log = await waitText(evse.locator(".log"), /ChargingPausedEVSE/);
      for (const event of ["SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging", "ChargingStarted"]) {
        expect(log).toContain(event);
      }
      expect(log).toContain("token RFID0042 (ISO14443)");
      expect(await evse.locator(".log tbody tr").first().innerText()).toContain("ChargingPausedEVSE");

      // Resume and let it charge a little, for a screenshot of a session in full swing.
      await evse.locator(".controls").getByRole("button", { name: "Resume", exact: true }).click();
      await waitText(status, /^Charging$/);
      await waitText(evse.locator(".outcome"), /^Charging resumed$/);
      await waitText(tileValue(page, "power"), /^[1-9][\d.]* kW$/);
      await Bun.sleep(3000); // a few more points on the chart for the picture
      await shot(page, "dashboard.png");

      // Unplug: the history lists the finished session, its OCMF records verified by the server.
      await evse.getByRole("button", { name: "Unplug" }).click();
      await waitText(status, /^Available$/);
      const row = evse.locator(".history tbody tr").first();
      await waitText(row, /EVDisconnected/);
      expect(await row.innerText()).toContain("RFID0042");
      expect(parseEnergy(await row.locator('[data-label="Energy"]').innerText())).toBeGreaterThan(0);
      await waitText(row.locator("[data-ocmf]"), /^verified$/);
      // The stop button on an idle EVSE: refused, in words.
      await evse.locator(".controls").getByRole("button", { name: "Stop", exact: true }).click();
      await waitText(evse.locator(".outcome"), /^Stop refused: no transaction$/);
      await evse.locator(".history").scrollIntoViewIfNeeded();
      await shot(page, "dashboard-history.png");

      expect(problems).toEqual([]);
      await page.context().close();
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "an RCD trip while charging shows Faulted with the reason and the error's description",
    async () => {
      const srv = await start({ waitReady: true, config: { disable_authentication: true } });
      const { page, problems } = await openPage(srv.url + "/");
      const evse = page.locator('[data-evse="1"]');
      const status = evse.locator(".evse-head [data-status]");
      await waitText(status, /^Available$/);
      const script = evse.locator('textarea[name="car-script"]');
      await script.fill("sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 4;rcd_current 40;sleep 36000");
      await evse.getByRole("button", { name: "Run (fresh)" }).click();
      await waitText(evse.locator(".outcome"), /^Script started from an unplugged car$/);
      await waitText(status, /^Charging$/, 20_000);
      await waitText(status, /^Faulted$/, 20_000);
      await waitText(evse.locator(".evse-head [data-reason]"), /^RCD tripped \(DC residual current\), relays open$/);
      const errors = await waitText(evse.locator(".errors"), /residual current above 5 mA/);
      expect(errors).toContain("ac_rcd/DC");
      expect(errors).toContain("stops charging");
      await waitText(tileValue(page, "relays"), /^Open$/);
      await shot(page, "dashboard-fault.png");
      expect(problems).toEqual([]);
      await page.context().close();
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "four EVSEs: an overview card each, no horizontal scrolling at 390 px or 1400 px, a click opens one EVSE",
    async () => {
      const srv = await start({
        waitReady: true,
        config: {
          evses: [
            { evse_id: "DE*TST*E0001*1" },
            { evse_id: "DE*TST*E0001*2", disable_authentication: true },
            { evse_id: "DE*TST*E0001*3", disable_authentication: true },
            { evse_id: "DE*TST*E0001*4" },
          ],
        },
      });
      // EVSE 2 charges; EVSE 3's contactor welds, so it ends with the long MREC17 error type.
      await srv.post("/api/v1/evses/2/sim/car", { script: "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 10,3;sleep 36000" });
      expect((await srv.post("/api/v1/evses/3/sim/board", { weld_relays: true })).status).toBe(200);
      await srv.post("/api/v1/evses/3/sim/car", { script: "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 3;unplug" });
      // EVSE 4's local energy manager holds it at 10 A: its card says so in words.
      const limited = await srv.fetch("/api/v1/evses/4/control", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ max_current_A: 10 }) });
      expect(limited.status).toBe(200);

      for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
        const { page, problems } = await openPage(srv.url + "/", viewport);
        const cards = page.locator("[data-card]");
        await waitText(page.locator('[data-card="2"] [data-status]'), /^Charging$/, 20_000);
        await waitText(page.locator('[data-card="3"] [data-status]'), /^Faulted$/, 20_000);
        await waitText(page.locator('[data-card="3"] [data-reason]'), /contactor fault.*relays closed/);
        expect(await cards.count()).toBe(4);
        // (On a loaded machine a simulated board may miss a report and be "not answering" for a moment.)
        await waitText(page.locator('[data-card="1"] [data-status]'), /^Available$/);
        await waitText(page.locator('[data-card="2"] [data-figure="power"]'), /^[1-9][\d.]* kW$/);
        await waitText(page.locator('[data-card="4"] [data-limit="local"]'), /^Limited to 10 A by local control$/);
        expect(await page.locator('[data-card="1"] [data-limits]').count()).toBe(0);
        expect(await page.locator("[data-evse]").count()).toBe(0);
        await expectNoHorizontalScroll(page, `overview at ${viewport.width} px`);
        if (viewport.width === 1400) await shot(page, "dashboard-overview.png");
        else await shot(page, "dashboard-phone.png");

        // Into the faulted EVSE: the long error type wraps instead of widening the page.
        await page.locator('[data-card="3"]').click();
        const three = page.locator('[data-evse="3"]');
        await waitText(three.locator(".evse-head [data-status]"), /^Faulted$/);
        await waitText(three.locator(".errors"), /evse_board_support\/MREC17EVSEContactorFault/);
        await expectNoHorizontalScroll(page, `EVSE 3 at ${viewport.width} px`);
        // Subtitles are whole, not cut with an ellipsis.
        for (const sub of await three.locator(".tile-sub").all()) {
          const fits = await sub.evaluate((el) => el.scrollWidth <= el.clientWidth);
          expect(fits).toBe(true);
        }
        await page.getByRole("link", { name: "← All EVSEs" }).click();
        await waitText(page.locator('[data-card="1"] [data-status]'), /^Available$/);

        expect(problems).toEqual([]);
        await page.context().close();
      }
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "local control from the page: the limit in words after a PUT …/control, the failsafe when the energy manager falls silent, refusals in words, clear, disable and enable",
    async () => {
      const srv = await start({ waitReady: true, config: { control: { failsafe_timeout_s: 8, failsafe_current_A: 6 } } });
      const { page, problems } = await openPage(srv.url + "/");
      const evse = page.locator('[data-evse="1"]');
      const status = evse.locator(".evse-head [data-status]");
      const local = evse.locator(".local-control");
      const outcome = evse.locator(".outcome");
      await waitText(status, /^Available$/);
      await waitText(evse.locator("[data-limits]"), /^No local limit, no site limit$/);
      // No badge for what is not configured.
      expect(await page.locator("[data-mqtt], [data-ocpp]").count()).toBe(0);

      // A local energy manager sets a limit over HTTP: the page shows it in words.
      const put = (body: unknown) => srv.fetch("/api/v1/evses/1/control", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect((await put({ max_current_A: 12 })).status).toBe(200);
      await waitText(evse.locator('[data-limit="local"]'), /^Limited to 12 A by local control$/);
      await waitText(local.locator("[data-local-limit]"), /^Limited to 12 A by local control$/);

      // The same from the page's own control, answered at once.
      const field = local.locator('input[name="local-limit"]');
      await field.fill("10");
      await local.getByRole("button", { name: "Set limit" }).click();
      await waitText(outcome, /^Limited to 10 A by local control$/);
      await waitText(evse.locator('[data-limit="local"]'), /^Limited to 10 A by local control$/, 2000);
      // Nobody refreshes it: after control.failsafe_timeout_s the failsafe current applies.
      await waitText(evse.locator('[data-limit="failsafe"]'), /^Failsafe: energy manager silent, 6 A$/, 20_000);
      await waitText(local.locator("[data-local-limit]"), /^Failsafe: energy manager silent, 6 A$/);
      expect((await srv.get("/api/v1/evses/1/status")).body).toMatchObject({ failsafe: true, local_limit_A: 10, failsafe_current_A: 6 });

      // Refusals in words; nothing changes.
      await field.fill("3");
      await local.getByRole("button", { name: "Set limit" }).click();
      await waitText(outcome, /^Set limit refused: invalid control request: max_current_A: must be 0 \(pause\) or at least 6/);
      await field.fill("ten");
      await local.getByRole("button", { name: "Set limit" }).click();
      await waitText(outcome, /^Set limit refused: "ten" is not a number of amperes/);
      expect((await srv.get("/api/v1/evses/1/status")).body).toMatchObject({ failsafe: true, local_limit_A: 10 });

      await local.getByRole("button", { name: "Clear limit" }).click();
      await waitText(outcome, /^Local limit removed$/);
      await waitText(evse.locator("[data-limits]"), /^No local limit, no site limit$/);
      expect((await srv.get("/api/v1/evses/1/status")).body).toMatchObject({ failsafe: false, local_limit_A: null });

      await local.getByRole("button", { name: "Disable", exact: true }).click();
      await waitText(outcome, /^Disabled by local control$/);
      await waitText(status, /^Unavailable$/);
      await waitText(local.locator("[data-enabled]"), /^disabled$/);
      await local.getByRole("button", { name: "Enable", exact: true }).click();
      await waitText(outcome, /^Enabled by local control$/);
      await waitText(status, /^Available$/);
      await waitText(local.locator("[data-enabled]"), /^enabled$/);

      // The browser logs the refused request (the 400 above) as a console error; nothing else.
      expect(problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p))).toEqual([]);
      await page.context().close();
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "two EVSEs on a 32 A site with MQTT: each card says its share of the site, the header says MQTT connected, then reconnecting with the reason when the broker dies",
    async () => {
      const broker = await startMosquitto();
      try {
        const srv = await start({
          waitReady: true,
          config: {
            site: { max_current_A: 32 },
            mqtt: { url: broker.url, username: broker.username, password: broker.password, topic_prefix: `dash/${crypto.randomUUID().slice(0, 8)}` },
            evses: [
              { evse_id: "DE*TST*E0002*1", disable_authentication: true },
              { evse_id: "DE*TST*E0002*2", disable_authentication: true },
            ],
          },
        });
        for (const i of [1, 2]) await srv.post(`/api/v1/evses/${i}/sim/car`, { script: "sleep 1;iec_wait_pwr_ready;sleep 1;draw_power_regulated 16,3;sleep 36000" });

        for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
          const { page, problems } = await openPage(srv.url + "/", viewport);
          await waitText(page.locator("[data-mqtt]"), /^MQTT connected$/);
          expect(await page.locator("[data-mqtt]").getAttribute("title")).toContain(`mqtt://127.0.0.1:${broker.port}`);
          expect(await page.locator("[data-ocpp]").count()).toBe(0);
          for (const i of [1, 2]) {
            await waitText(page.locator(`[data-card="${i}"] [data-status]`), /^Charging$/, 20_000);
            // Both charge: about half of 32 A each (rounded down to 0.1 A).
            await waitText(page.locator(`[data-card="${i}"] [data-limit="site"]`), /^Site share 1[56](\.\d)? A of 32 A$/, 20_000);
          }
          await expectNoHorizontalScroll(page, `site overview at ${viewport.width} px`);
          await page.locator('[data-card="2"]').click();
          await waitText(page.locator('[data-evse="2"] [data-limit="site"]'), /^Site share 1[56](\.\d)? A of 32 A$/);
          await expectNoHorizontalScroll(page, `EVSE 2 with its site share at ${viewport.width} px`);
          expect(problems).toEqual([]);
          await page.context().close();
        }

        // The broker dies: the badge says so, with the reason, and still fits a phone.
        await broker.kill();
        const { page, problems } = await openPage(srv.url + "/", { width: 390, height: 844 });
        await waitText(page.locator("[data-mqtt]"), /^MQTT: reconnecting — \S.*/, 20_000);
        await expectNoHorizontalScroll(page, "the reconnecting badge at 390 px");
        expect(problems).toEqual([]);
        await page.context().close();
      } finally {
        await broker.stop();
      }
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "/docs fits the window: its tables wrap (the variable-name enum) instead of widening the page",
    async () => {
      const srv = await start({ waitReady: false });
      for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
        const { page, problems } = await openPage(srv.url + "/docs", viewport);
        await waitText(page.locator("h1"), /evse-manager/);
        await expectNoHorizontalScroll(page, `/docs at ${viewport.width} px`);
        expect(problems).toEqual([]);
        await page.context().close();
      }
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "asks for the API token only after a 401, and works for commands and the event stream once it is entered",
    async () => {
      const token = "dashboard-secret-7";
      const srv = await start({ waitReady: true, env: { EVSE_API_TOKEN: token } });
      const { page, problems } = await openPage(srv.url + "/");
      const auth = page.getByRole("region", { name: "Authentication" });
      await waitText(auth, /requires an API token/);
      expect(await page.locator("[data-evse]").count()).toBe(0);

      await auth.locator('input[name="api-token"]').fill("wrong-token");
      await auth.getByRole("button", { name: "Connect" }).click();
      await waitText(auth, /refused the token/);

      await auth.locator('input[name="api-token"]').fill(token);
      await auth.getByRole("button", { name: "Connect" }).click();
      const evse = page.locator('[data-evse="1"]');
      const status = evse.locator(".evse-head [data-status]");
      await waitText(status, /^Available$/);
      // The stream needs the token too: the boot announcement arrives through it.
      await waitText(evse.locator(".log"), /Enabled/);
      expect(await page.evaluate(() => sessionStorage.getItem("evse-manager.api-token"))).toBe(token);
      expect(await page.locator('input[name="api-token"]').count()).toBe(0);

      await evse.locator(".controls").getByRole("button", { name: "Disable", exact: true }).click();
      await waitText(status, /^Unavailable$/);
      await waitText(evse.locator(".evse-head [data-reason]"), /^disabled$/);
      await waitText(evse.locator(".outcome"), /^Disabled \(local operator, priority 5000\)$/);
      await waitText(evse.locator(".log tbody tr").first(), /Disabled\s.*LocalAPI/);
      expect((await srv.get("/api/v1/evses/1/vars/session_event")).body.event).toBe("Disabled");

      expect(problems).toEqual([]);
      await page.context().close();
    },
    FLOW_TIMEOUT_MS,
  );
});
