// /openapi.json passes Redocly's recommended ruleset with no error and no warning: servers,
// operationIds, security on every operation (an empty list on the public ones), schemas that
// define what they require. The CLI is a devDependency; it runs on the document the app serves.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { harness } from "./api-fakes.ts";

const REDOCLY = join(import.meta.dir, "..", "node_modules", ".bin", "redocly");
const dir = mkdtempSync(join(tmpdir(), "openapi-lint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LintProblem {
  ruleId: string;
  severity: "error" | "warn";
  message: string;
  location?: { pointer?: string }[];
}

async function lint(doc: unknown): Promise<{ code: number; problems: LintProblem[]; stderr: string }> {
  const file = join(dir, `openapi-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  // Run from the temporary folder with the ruleset named, so no redocly.yaml anywhere applies.
  const proc = Bun.spawn([REDOCLY, "lint", "--extends=recommended", "--format=json", file], {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const json = stdout.slice(stdout.indexOf("{"));
  const report = JSON.parse(json) as { problems: LintProblem[] };
  return { code, problems: report.problems, stderr };
}

const summary = (p: LintProblem) => `${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer ?? "?"}: ${p.message}`;

describe("redocly lint --extends=recommended", () => {
  test(
    "passes on /openapi.json with no errors and no warnings",
    async () => {
      const { app } = harness({ token: "s3cret" });
      const res = await app.request("/openapi.json");
      expect(res.status).toBe(200);
      const { code, problems } = await lint(await res.json());
      expect(problems.map(summary)).toEqual([]);
      expect(code).toBe(0);
    },
    60_000,
  );

  test(
    "reports what the old hand-written document had: an operation without operationId, a public route without security",
    async () => {
      const { app } = harness();
      const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
      delete doc.paths["/healthz"]!.get!.operationId;
      delete doc.paths["/metrics"]!.get!.security;
      const { code, problems } = await lint(doc);
      const rules = problems.map((p) => p.ruleId);
      expect(rules).toContain("operation-operationId");
      expect(rules).toContain("security-defined");
      expect(code).not.toBe(0);
    },
    60_000,
  );
});
