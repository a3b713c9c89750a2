// The web dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core
// against the real program. A person's session from the page alone: plug the simulated car in,
// authorize, watch it charge, pause, read the log. Also takes the README's screenshot.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { startServer, type TestServer } from "./helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
// docs/dashboard.png is committed: a test run rewriting it would leave every checkout modified
// (and build.ts would then stamp the version "-dirty"). It is refreshed on request only:
//   DASHBOARD_SCREENSHOT=docs/dashboard.png bun test test/dashboard.browser.test.ts
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT
  ? resolve(process.env.DASHBOARD_SCREENSHOT)
  : join(tmpdir(), `evse-dashboard-${process.pid}.png`);
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
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

async function openPage(url: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/401|Unauthorized/.test(msg.text())) problems.push(`console: ${msg.text()}`);
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

describe("web dashboard in Chromium", () => {
  test(
    "plugs in the simulated car, authorizes, charges with rising energy, pauses and logs every step",
    async () => {
      const srv = await start({ waitReady: true });
      const { page, problems } = await openPage(srv.url + "/");
      const evse = page.locator('[data-evse="1"]');
      const status = evse.locator("[data-status]");

      await waitText(status, /^Available$/);
      await waitText(tileValue(page, "cp"), /^State A$/);
      await waitText(evse.locator(".log"), /Enabled/);

      await evse.getByRole("button", { name: "Plug in" }).click();
      await waitText(status, /^Waiting for authorization$/);
      await waitText(tileValue(page, "cp"), /^State B$/);
      await waitText(tileValue(page, "lock"), /^Locked$/);

      const tokenField = evse.locator('input[name="id-token"]');
      await tokenField.fill("");
      await tokenField.type("RFID0042");
      await evse.getByRole("button", { name: "Authorize" }).click();
      await waitText(status, /^Charging$/);
      await waitText(tileValue(page, "relays"), /^Closed$/);
      await waitText(tileValue(page, "cp"), /^State C$/);
      expect(await tileValue(page, "pwm").innerText()).toMatch(/%$/);
      await waitText(tileValue(page, "power"), /^[1-9][\d.]* kW$/);
      expect(await evse.locator(".evse-head").innerText()).toContain("token RFID0042");

      const first = parseEnergy(await waitText(tileValue(page, "energy"), /Wh$/));
      const end = Date.now() + 15_000;
      let later = first;
      while (later <= first && Date.now() < end) {
        await Bun.sleep(250);
        later = parseEnergy(await tileValue(page, "energy").innerText());
      }
      expect(later).toBeGreaterThan(first);

      await evse.locator(".controls").getByRole("button", { name: "Pause", exact: true }).click();
      await waitText(status, /^Paused by charger$/);
      await waitText(tileValue(page, "relays"), /^Open$/);
      await waitText(evse.locator(".outcome"), /^Pause: true$/);

      const log = await waitText(evse.locator(".log"), /ChargingPausedEVSE/);
      for (const event of ["SessionStarted", "AuthRequired", "Authorized", "TransactionStarted", "PrepareCharging", "ChargingStarted"]) {
        expect(log).toContain(event);
      }
      expect(log).toContain("token RFID0042 (ISO14443)");
      // Newest first: the pause is the top row of the table.
      expect(await evse.locator(".log tbody tr").first().innerText()).toContain("ChargingPausedEVSE");

      // Resume and let it charge a little, for a screenshot of a session in full swing.
      await evse.locator(".controls").getByRole("button", { name: "Resume", exact: true }).click();
      await waitText(status, /^Charging$/);
      await waitText(evse.locator(".log tbody tr").first(), /ChargingStarted|ChargingResumed/);
      await waitText(tileValue(page, "relays"), /^Closed$/);
      await waitText(tileValue(page, "cp"), /^State C$/);
      await waitText(tileValue(page, "power"), /^[1-9][\d.]* kW$/);
      await Bun.sleep(1500); // a few more watt-hours on the meter for the picture
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
      if (!process.env.DASHBOARD_SCREENSHOT) rmSync(SCREENSHOT);

      expect(problems).toEqual([]);
      await page.context().close();
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "shows one independent panel per EVSE: free charging on EVSE 2 leaves EVSE 1 untouched",
    async () => {
      const srv = await start({
        waitReady: true,
        config: { evses: [{ evse_id: "DE*TST*E0001*1" }, { evse_id: "DE*TST*E0001*2", disable_authentication: true }] },
      });
      const { page, problems } = await openPage(srv.url + "/");
      const one = page.locator('[data-evse="1"]');
      const two = page.locator('[data-evse="2"]');
      await waitText(one.locator(".evse-head"), /DE\*TST\*E0001\*1/);
      await waitText(two.locator(".evse-head"), /DE\*TST\*E0001\*2/);

      await two.locator('input[name="car-current"]').fill("10");
      await two.getByRole("button", { name: "Plug in" }).click();
      await waitText(two.locator("[data-status]"), /^Charging$/);
      await waitText(two.locator('[data-tile="power"] .tile-value'), /^[1-9][\d.]* kW$/);
      await waitText(two.locator(".log"), /FREESERVICE|TransactionStarted/);

      expect(await one.locator("[data-status]").innerText()).toBe("Available");
      expect(await one.locator('[data-tile="relays"] .tile-value').innerText()).toBe("Open");
      expect(await one.locator(".log").innerText()).not.toContain("SessionStarted");

      expect(problems).toEqual([]);
      await page.context().close();
    },
    FLOW_TIMEOUT_MS,
  );

  test(
    "asks for the API token when one is configured and works for commands and the event stream once it is entered",
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
      await waitText(evse.locator("[data-status]"), /^Available$/);
      // The stream needs the token too: the boot announcement arrives through it.
      await waitText(evse.locator(".log"), /Enabled/);
      expect(await page.evaluate(() => sessionStorage.getItem("evse-manager.api-token"))).toBe(token);

      await evse.locator(".controls").getByRole("button", { name: "Disable", exact: true }).click();
      await waitText(evse.locator("[data-status]"), /^Disabled$/);
      await waitText(evse.locator(".log tbody tr").first(), /Disabled\s.*LocalAPI/);
      expect((await srv.get("/api/v1/evses/1/vars/session_event")).body.event).toBe("Disabled");

      expect(problems).toEqual([]);
      await page.context().close();
    },
    FLOW_TIMEOUT_MS,
  );
});
