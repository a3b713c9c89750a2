// GET /docs: the API reference, rendered on the server from the OpenAPI document (one
// self-contained page, no script and nothing fetched from elsewhere), so it cannot disagree
// with /openapi.json.
import * as v from "valibot";
import { route, type Route } from "../route.ts";

type Json = Record<string, unknown>;

const esc = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;
const REF_PREFIX = "#/components/schemas/";

/** A schema as indented JSON, each $ref turned into a link to its component. */
function schemaHtml(schema: unknown): string {
  const text = esc(JSON.stringify(schema, null, 2) ?? "");
  return `<pre>${text.replace(/&#34;\$ref&#34;: &#34;#\/components\/schemas\/([A-Za-z0-9_]+)&#34;/g, (_, name: string) => `&#34;$ref&#34;: <a href="#schema-${name}">${name}</a>`)}</pre>`;
}

function operationHtml(path: string, method: string, op: Json): string {
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const parts = [`<section class="op" id="${id}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>`];
  if (typeof op.summary === "string") parts.push(`<p>${esc(op.summary)}</p>`);
  if (Array.isArray(op.security) && op.security.length > 0) parts.push(`<p class="auth">Needs <code>Authorization: Bearer &lt;token&gt;</code> when a token is configured.</p>`);
  const params = (op.parameters ?? []) as Json[];
  if (params.length > 0) {
    parts.push("<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th><th>Schema</th><th>Description</th></tr>");
    for (const p of params) {
      parts.push(
        `<tr><td><code>${esc(String(p.name))}</code></td><td>${esc(String(p.in))}</td><td>${p.required ? "yes" : "no"}</td><td><code>${esc(JSON.stringify(p.schema ?? {}))}</code></td><td>${esc(String(p.description ?? ""))}</td></tr>`,
      );
    }
    parts.push("</table>");
  }
  const body = op.requestBody as Json | undefined;
  if (body) {
    parts.push(`<h4>Request body${body.required ? "" : " (optional)"}</h4>`);
    for (const [type, media] of Object.entries((body.content ?? {}) as Record<string, Json>)) parts.push(`<p><code>${esc(type)}</code></p>${schemaHtml(media.schema ?? {})}`);
  }
  parts.push("<h4>Responses</h4>");
  for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
    parts.push(`<details${status.startsWith("2") ? " open" : ""}><summary><b>${esc(status)}</b> ${esc(String(response.description ?? ""))}</summary>`);
    for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, Json>)) parts.push(`<p><code>${esc(type)}</code></p>${schemaHtml(media.schema ?? {})}`);
    parts.push("</details>");
  }
  parts.push("</section>");
  return parts.join("\n");
}

export function renderDocsHtml(doc: Json): string {
  const info = (doc.info ?? {}) as Json;
  const paths = (doc.paths ?? {}) as Record<string, Json>;
  const schemas = (((doc.components ?? {}) as Json).schemas ?? {}) as Record<string, unknown>;
  const index: string[] = [];
  const ops: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const id = `${method}-${path}`.replace(/[^A-Za-z0-9_-]/g, "_");
      index.push(`<li><a href="#${id}"><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></a></li>`);
      ops.push(operationHtml(path, method, op));
    }
  }
  const components = Object.entries(schemas).map(([name, s]) => `<section id="schema-${esc(name)}"><h3><code>${esc(name)}</code></h3>${schemaHtml(s)}</section>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(String(info.title ?? "API"))} ${esc(String(info.version ?? ""))} API reference</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:0 auto;padding:1rem 1.5rem;color:#222}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f5f5f5;padding:.6rem;overflow:auto;max-height:30rem}
.op{border-top:1px solid #ddd;padding-top:.3rem}.m{display:inline-block;min-width:4.5rem;font-weight:bold}
.get{color:#06c}.post{color:#080}.delete{color:#b00}table{border-collapse:collapse;width:100%;table-layout:fixed}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td code{white-space:pre-wrap;overflow-wrap:anywhere}h3 code{overflow-wrap:anywhere}pre{white-space:pre-wrap;overflow-wrap:anywhere}
ul.index{columns:2 22rem;list-style:none;padding:0;overflow-wrap:anywhere}a{text-decoration:none}.auth{color:#666;font-size:13px}
</style></head><body>
<h1>${esc(String(info.title ?? "API"))} <small>${esc(String(info.version ?? ""))}</small></h1>
<p>${esc(String(info.description ?? ""))}. Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(String(doc.openapi ?? ""))}).</p>
<h2>Routes</h2><ul class="index">${index.join("\n")}</ul>
${ops.join("\n")}
<h2>Schemas</h2>
${components.join("\n")}
</body></html>
`;
}

/** Only the frame: the rest is described by the OpenAPI 3.1 specification itself. */
const OpenApiDocumentSchema = v.pipe(
  v.looseObject({ openapi: v.string(), info: v.looseObject({ title: v.string(), version: v.string() }), paths: v.looseObject({}) }),
  v.description("An OpenAPI 3.1 document"),
);

/**
 * GET /openapi.json and GET /docs. `document` is asked for on the first request only: converting
 * every schema and rendering the page is not start-up work.
 */
export function docsRoutes(document: (version: string) => Json): Route[] {
  return [
    route({
      method: "GET",
      path: "/openapi.json",
      operationId: "getOpenApi",
      summary: "This document (no token needed)",
      auth: false,
      responses: { "200": { description: "OpenAPI 3.1", schema: OpenApiDocumentSchema } },
      handler: (ctx) => (c) => c.json(document(ctx.version)),
    }),
    route({
      method: "GET",
      path: "/docs",
      operationId: "getDocs",
      summary: "API reference: this document as one HTML page (no token needed)",
      auth: false,
      responses: { "200": { description: "HTML", media: "text/html", schema: v.string() } },
      handler: (ctx) => {
        let html: string | null = null;
        return (c) => c.html((html ??= renderDocsHtml(document(ctx.version))));
      },
    }),
  ];
}
