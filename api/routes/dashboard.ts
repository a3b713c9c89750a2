// The web dashboard: GET / (the page), GET /assets/app.js, /assets/style.css and /favicon.ico. The files are
// bundled by a Bun macro (web/bundle.ts): at build time for the compiled executable, on the first
// request when running from source. No token for the page itself; its API calls carry one.
import { Hono } from "hono";
import type { DashboardAssets } from "../../web/bundle.ts";
import { methodNotAllowed, type ApiContext } from "../context.ts";
import { ApiError } from "../errors.ts";

interface Served {
  body: string;
  type: string;
  etag: string;
}

const SECURITY_HEADERS = {
  // Everything the page needs comes from this server; nothing else may load or run.
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function served(body: string, type: string): Served {
  return { body, type, etag: `"${Bun.hash(body).toString(36)}"` };
}

export function dashboardRoutes(_ctx: ApiContext): Hono {
  const r = new Hono();
  let files: Promise<Map<string, Served>> | null = null;
  const load = (): Promise<Map<string, Served>> =>
    (files ??= import("../../web/assets.ts").then(({ DASHBOARD }: { DASHBOARD: DashboardAssets }) => {
      return new Map([
        ["/", served(DASHBOARD.html, "text/html; charset=utf-8")],
        ["/assets/app.js", served(DASHBOARD.js, "text/javascript; charset=utf-8")],
        ["/assets/style.css", served(DASHBOARD.css, "text/css; charset=utf-8")],
        // An SVG under the name browsers and crawlers ask for; the page links it explicitly too.
        ["/favicon.ico", served(DASHBOARD.icon, "image/svg+xml")],
      ]);
    }));

  const serve = async (path: string, ifNoneMatch: string | undefined): Promise<Response> => {
    const file = (await load()).get(path);
    if (!file) throw new ApiError(404, "not_found", `no dashboard asset ${path}`);
    // Revalidated on every load, so a new executable never runs with an old cached script.
    const headers = { ...SECURITY_HEADERS, "content-type": file.type, "cache-control": "no-cache", etag: file.etag };
    if (ifNoneMatch === file.etag) return new Response(null, { status: 304, headers });
    return new Response(file.body, { headers });
  };

  r.get("/", (c) => serve("/", c.req.header("if-none-match")));
  r.all("/", methodNotAllowed(["GET"]));
  r.get("/favicon.ico", (c) => serve("/favicon.ico", c.req.header("if-none-match")));
  r.all("/favicon.ico", methodNotAllowed(["GET"]));
  r.get("/assets/:name", (c) => serve(c.req.path, c.req.header("if-none-match")));
  r.all("/assets/:name", methodNotAllowed(["GET"]));

  return r;
}
