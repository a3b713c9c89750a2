// Bun macro (imported `with { type: "macro" }` by web/assets.ts): bundles the dashboard while
// assets.ts is transpiled. From source that happens the first time the page is asked for; in
// `bun build --compile` it happens at build time and the strings are inlined into the
// executable, so the binary reads no file and needs no CDN. Bun.build cannot run inside a macro
// (the bundler would wait on itself), hence the CLI in a child process.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface DashboardAssets {
  html: string;
  css: string;
  js: string;
  /** The page's icon (SVG), also served as /favicon.ico for clients that ask for that name. */
  icon: string;
}

export function bundleDashboard(): DashboardAssets {
  const dir = import.meta.dir;
  const build = Bun.spawnSync(
    [process.execPath, "build", join(dir, "app.tsx"), "--target=browser", "--format=esm", "--minify"],
    { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, NODE_ENV: "production" } },
  );
  if (build.exitCode !== 0) {
    throw new Error(`dashboard bundle failed (bun build web/app.tsx):\n${build.stderr.toString()}`);
  }
  // uPlot's stylesheet goes first so the page's own rules can override it.
  const uplotCss = readFileSync(join(dir, "..", "node_modules", "uplot", "dist", "uPlot.min.css"), "utf8");
  return {
    html: readFileSync(join(dir, "index.html"), "utf8"),
    css: `${uplotCss}\n${readFileSync(join(dir, "style.css"), "utf8")}`,
    js: build.stdout.toString(),
    icon: readFileSync(join(dir, "icon.svg"), "utf8"),
  };
}
