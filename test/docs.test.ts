// The documentation stands on its own: docs/http-api.md is exactly what the generator writes from
// the OpenAPI document (a new route forces a regeneration), every relative link in README.md and
// docs/*.md names a file of the repository, the OpenAPI document refers to nothing outside it, and
// docs/configuration.md names every configuration option.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { GLOBAL_ENTRIES } from "../core/config/app-options.ts";
import { EVSE_MANAGER_OPTION_NAMES, HidOptionsSchema, SimOptionsSchema } from "../core/config/evse-options.ts";
import { ApiOptionsSchema, StorageOptionsSchema, UpdateOptionsSchema } from "../core/config/app-options.ts";
import { ControlOptionsSchema, SiteOptionsSchema } from "../core/config/site-options.ts";
import { MqttOptionsSchema } from "../core/config/mqtt-options.ts";
import { AuthOptionsSchema, OcppOptionsSchema } from "../core/config/ocpp-options.ts";
import { generatedHttpApiDoc, HTTP_API_DOC } from "../api/http-api-docs.ts";
import { apiDocument } from "../api/route-table.ts";

const ROOT = resolve(import.meta.dir, "..");
const MARKDOWN = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Relative targets of Markdown links and images, without their #anchor. */
function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
    out.push(target.split("#")[0]!);
  }
  return out;
}

describe("documentation", () => {
  test("docs/http-api.md is the generator's output for the current OpenAPI document (run `bun run docs:api`)", () => {
    expect(readFileSync(HTTP_API_DOC, "utf8")).toBe(generatedHttpApiDoc());
  });

  test("the HTTP reference covers every route of the OpenAPI document", () => {
    const doc = readFileSync(HTTP_API_DOC, "utf8");
    const paths = (apiDocument("0") as { paths: Record<string, Record<string, unknown>> }).paths;
    for (const [path, item] of Object.entries(paths)) {
      for (const method of Object.keys(item)) expect(doc).toContain(`### \`${method.toUpperCase()} ${path}\``);
    }
  });

  test("every relative link in README.md and docs/*.md resolves to a file in the repository", () => {
    const broken: string[] = [];
    let count = 0;
    for (const file of MARKDOWN) {
      for (const target of relativeLinks(readFileSync(join(ROOT, file), "utf8"))) {
        count++;
        const path = resolve(ROOT, dirname(file), target);
        if (!path.startsWith(ROOT + "/") || !existsSync(path)) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
    expect(count).toBeGreaterThan(10);
  });

  test("nothing points at the specification outside the repository (shared/spec)", () => {
    for (const file of MARKDOWN) expect(`${file}: ${readFileSync(join(ROOT, file), "utf8")}`).not.toMatch(/shared\/spec/);
    expect(JSON.stringify(apiDocument("0"))).not.toMatch(/shared\//);
  });

  test("every .md file the OpenAPI document names exists in the repository", () => {
    const text = JSON.stringify(apiDocument("0"));
    const named = [...text.matchAll(/([\w./-]+\.md)\b/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(`${name}: ${existsSync(join(ROOT, name))}`).toBe(`${name}: true`);
  });

  test("docs/configuration.md names every configuration option", () => {
    const doc = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");
    const names = [
      ...Object.keys(GLOBAL_ENTRIES).filter((k) => !["api", "storage", "update", "control", "site", "mqtt", "ocpp", "auth"].includes(k)),
      ...Object.keys(ApiOptionsSchema.entries).map((k) => `api.${k}`),
      ...Object.keys(StorageOptionsSchema.entries).map((k) => `storage.${k}`),
      ...Object.keys(UpdateOptionsSchema.entries).map((k) => `update.${k}`),
      ...Object.keys(ControlOptionsSchema.entries).map((k) => `control.${k}`),
      ...Object.keys(SiteOptionsSchema.entries).map((k) => `site.${k}`),
      ...Object.keys(MqttOptionsSchema.entries).filter((k) => k !== "homeassistant").map((k) => `mqtt.${k}`),
      "mqtt.homeassistant.enabled",
      ...Object.keys(OcppOptionsSchema.pipe[0].entries).map((k) => `ocpp.${k}`),
      ...Object.keys(AuthOptionsSchema.entries).map((k) => `auth.${k}`),
      "mqtt.homeassistant.discovery_prefix",
      ...EVSE_MANAGER_OPTION_NAMES,
      ...Object.keys(SimOptionsSchema.entries).map((k) => `sim.${k}`),
      ...Object.keys(HidOptionsSchema.entries).map((k) => `hid.${k}`),
      "evses",
    ];
    const missing = names.filter((n) => !doc.includes(`\`${n}\``) && !doc.includes(`\`${n}:`));
    expect(missing).toEqual([]);
  });
});
