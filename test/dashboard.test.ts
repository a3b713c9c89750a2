// The dashboard's files over HTTP (no browser): served at / and /assets/* without a token even
// when the API wants one, nothing loaded from elsewhere, and embedded in a compiled executable
// rather than read from web/ at run time.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DASHBOARD } from "../web/assets.ts";
import { startServer, type TestServer } from "./helpers/server.ts";

const ROOT = resolve(import.meta.dir, "..");
const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("dashboard assets", () => {
  test("the page, script and style are served without a token while the API still requires one", async () => {
    const srv = await startServer({ env: { EVSE_API_TOKEN: "page-needs-no-token" } });
    servers.push(srv);
    const page = await fetch(srv.url + "/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/assets/app.js">');
    expect(html).toContain('<link rel="stylesheet" href="/assets/style.css" />');

    const js = await fetch(srv.url + "/assets/app.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toBe(DASHBOARD.js);
    const css = await fetch(srv.url + "/assets/style.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await css.text()).toBe(DASHBOARD.css);

    expect((await fetch(srv.url + "/api/v1/evses")).status).toBe(401);
  }, 20_000);

  test("/favicon.ico is served (an SVG, no token) and the page links it", async () => {
    const srv = await startServer({ env: { EVSE_API_TOKEN: "icon-needs-no-token" } });
    servers.push(srv);
    const icon = await fetch(srv.url + "/favicon.ico");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(await icon.text()).toStartWith("<svg");
    expect(DASHBOARD.html).toContain('<link rel="icon" href="/favicon.ico"');
    // uPlot's stylesheet travels inside the bundle, ahead of the page's own rules.
    expect(DASHBOARD.css).toContain(".u-legend");
    expect(DASHBOARD.css.indexOf(".u-legend")).toBeLessThan(DASHBOARD.css.indexOf("evse-manager dashboard"));
  }, 20_000);

  test("assets are revalidated by ETag, locked down by CSP, and unknown names or methods are refused", async () => {
    const srv = await startServer();
    servers.push(srv);
    const first = await fetch(srv.url + "/assets/app.js");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-z]+"$/);
    expect(first.headers.get("cache-control")).toBe("no-cache");
    expect(first.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    const again = await fetch(srv.url + "/assets/app.js", { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");

    const missing = await fetch(srv.url + "/assets/nope.js");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { message: string }).message).toBe("no dashboard asset /assets/nope.js");
    const post = await fetch(srv.url + "/", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  }, 20_000);

  test("the bundle loads nothing from another origin (no CDN): the only absolute URLs are XML namespaces", () => {
    expect(DASHBOARD.js).toContain("sessionStorage");
    for (const text of [DASHBOARD.html, DASHBOARD.css, DASHBOARD.js]) {
      const urls = text.match(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi) ?? [];
      expect(urls.filter((u) => !/^http:\/\/www\.w3\.org\//.test(u))).toEqual([]);
    }
  });

  test("a compiled executable carries the files inside it and reads nothing from web/", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evse-dash-compile-"));
    dirs.push(dir);
    const entry = join(dir, "entry.ts");
    await Bun.write(entry, `import { DASHBOARD } from ${JSON.stringify(join(ROOT, "web", "assets.ts"))};\nconsole.log(JSON.stringify(DASHBOARD));\n`);
    const build = Bun.spawnSync([process.execPath, "build", entry, "--compile", "--outfile", join(dir, "dash")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    expect(build.stderr.toString()).not.toContain("error");
    expect(build.exitCode).toBe(0);
    rmSync(entry);
    // Run from an empty directory: there is no web/ to read, only what the binary holds.
    const run = Bun.spawnSync([join(dir, "dash")], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout.toString())).toEqual(DASHBOARD);
  }, 60_000);
});
