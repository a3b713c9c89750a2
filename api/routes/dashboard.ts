// The web dashboard: GET / (the page), GET /assets/app.js, /assets/style.css and /favicon.ico. The files are
// bundled by a Bun macro (web/bundle.ts): at build time for the compiled executable, on the first
// request when running from source. No token for the page itself; its API calls carry one.
import * as v from "valibot";
import type { DashboardAssets } from "../../web/bundle.ts";
import { ApiError } from "../errors.ts";
import { route, type HeaderParam, type Route } from "../route.ts";

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

async function serve(path: string, ifNoneMatch: string | undefined): Promise<Response> {
  const file = (await load()).get(path);
  if (!file) throw new ApiError(404, "not_found", `no dashboard asset ${path}`);
  // Revalidated on every load, so a new executable never runs with an old cached script.
  const headers = { ...SECURITY_HEADERS, "content-type": file.type, "cache-control": "no-cache", etag: file.etag };
  if (ifNoneMatch === file.etag) return new Response(null, { status: 304, headers });
  return new Response(file.body, { headers });
}

const ifNoneMatch: HeaderParam = { name: "If-None-Match", required: false, description: "The ETag of a cached copy: 304 when it is still current", schema: v.string() };
const notModified = { description: "The cached copy is current" };

export const dashboardRoutes: Route[] = [
  route({
    method: "GET",
    path: "/",
    operationId: "getDashboard",
    summary: "Web dashboard (no token needed to load it; its API calls need one)",
    auth: false,
    headers: [ifNoneMatch],
    responses: { "200": { description: "The page", media: "text/html", schema: v.string() }, "304": notModified },
    handler: () => (c) => serve("/", c.req.header("if-none-match")),
  }),
  route({
    method: "GET",
    path: "/favicon.ico",
    operationId: "getFavicon",
    summary: "The dashboard's icon (SVG)",
    auth: false,
    headers: [ifNoneMatch],
    responses: { "200": { description: "image/svg+xml", media: "image/svg+xml", schema: v.string() }, "304": notModified },
    handler: () => (c) => serve("/favicon.ico", c.req.header("if-none-match")),
  }),
  route({
    method: "GET",
    path: "/assets/{name}",
    operationId: "getDashboardAsset",
    summary: "Dashboard assets, embedded in the executable",
    auth: false,
    params: { name: { schema: v.string(), description: "app.js or style.css", notFound: (name) => `no dashboard asset /assets/${name}` } },
    headers: [ifNoneMatch],
    responses: {
      "200": { description: "The asset (JavaScript or CSS)", media: ["text/javascript", "text/css"], schema: v.string() },
      "304": notModified,
      "404": { description: "No such asset" },
    },
    handler: () => (c) => serve(c.req.path, c.req.header("if-none-match")),
  }),
];
