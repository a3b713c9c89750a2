// Starts the real program as a child process on a free port, for end-to-end tests: `bun main.ts`
// by default, or the compiled executable (`exe: "binary"`) with the bare environment a service
// manager gives it. Every server gets its own port (--port 0) and its own temp dir, so several
// run side by side. EVSE_TEST_FROM_SOURCE=1 runs the source even where a test asks for the binary
// (quicker while editing: no rebuild).
//
//   const srv = await startServer({ config: { disable_authentication: true } });
//   const events = srv.events();               // Last-Event-ID: 0 by default: everything since start
//   await srv.post("/api/v1/evses/1/sim/car", { script: "..." });
//   await events.waitFor((m) => m.event === "session_event" && m.data.event === "ChargingStarted");
//   await srv.stop();                          // SIGTERM; resolves with the exit code
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bareEnv, binary } from "../binary-harness.ts";

const ROOT = resolve(import.meta.dir, "..", "..");

export interface StartOptions {
  /** Config document (written as JSON, which is YAML) or a path to an existing file. */
  config?: Record<string, unknown> | string;
  /** Extra flags after `--port 0 --config …`. */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Wait until /healthz answers 200 (default true). */
  waitHealthy?: boolean;
  /** Also wait until GET /api/v1/evses/1/vars/ready is true (scenarios.md §0.1; default false). */
  waitReady?: boolean;
  timeoutMs?: number;
  /** "source" (default): bun main.ts; "binary": the compiled executable for this machine. */
  exe?: "source" | "binary";
}

export interface SseMessage {
  id: number;
  event: string;
  data: any;
}

export interface EventStream {
  /** Every message received so far, in order. */
  readonly messages: SseMessage[];
  /** Number of `: keep-alive` comments seen. */
  readonly keepAlives: number;
  /** Resolves with the first message (already received or still to come) that matches. */
  waitFor(pred: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** `data.event` of every session_event so far. */
  sessionEvents(): string[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export interface TestServer {
  url: string;
  port: number;
  proc: ReturnType<typeof Bun.spawn>;
  /** stdout and stderr lines so far (for diagnostics). */
  output: string[];
  /** Temp dir of this server (config file, storage unless the config says otherwise). */
  dir: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  get(path: string): Promise<{ status: number; body: any }>;
  post(path: string, body?: unknown): Promise<{ status: number; body: any }>;
  del(path: string): Promise<{ status: number; body: any }>;
  /** Opens GET /api/v1/evses/{evse}/events; `lastEventId` defaults to "0" (replay since start); null sends none. */
  events(options?: { evse?: number; lastEventId?: string | null }): EventStream;
  /** SIGTERM (or the given signal) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const running = new Set<ReturnType<typeof Bun.spawn>>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

/** Runs main.ts to completion (for --help, --version, refused configs). */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, join(ROOT, "main.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, EVSE_API_TOKEN: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

async function pumpLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) onLine(buffer);
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const dir = mkdtempSync(join(tmpdir(), "evse-test-"));
  let configPath: string;
  if (typeof options.config === "string") configPath = options.config;
  else {
    const doc: Record<string, unknown> = { ...(options.config ?? {}) };
    // Nothing persists between tests unless a test asks for a file of its own.
    if (!("storage" in doc) && !("storage.path" in doc)) doc.storage = { path: ":memory:" };
    configPath = join(dir, "config.json");
    writeFileSync(configPath, JSON.stringify(doc));
  }

  const fromBinary = options.exe === "binary" && !process.env.EVSE_TEST_FROM_SOURCE;
  const program = fromBinary ? [await binary(process.arch === "arm64" ? "linux-arm64" : "linux-x64")] : [process.execPath, join(ROOT, "main.ts")];
  const proc = Bun.spawn([...program, "--port", "0", "--config", configPath, ...(options.args ?? [])], {
    cwd: dir,
    env: { ...(fromBinary ? bareEnv(dir) : process.env), EVSE_API_TOKEN: "", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  const output: string[] = [];
  let resolveUrl!: (url: string) => void;
  const urlSeen = new Promise<string>((r) => (resolveUrl = r));
  const onLine = (line: string) => {
    output.push(line);
    const m = /listening on (http:\/\/[^\s",}]+)/.exec(line);
    if (m) resolveUrl(m[1]!);
  };
  void pumpLines(proc.stdout as ReadableStream<Uint8Array>, onLine);
  void pumpLines(proc.stderr as ReadableStream<Uint8Array>, onLine);

  const fail = (why: string): never => {
    proc.kill("SIGKILL");
    running.delete(proc);
    throw new Error(`${why}\n--- server output ---\n${output.join("\n")}`);
  };

  const url = await Promise.race([
    urlSeen,
    proc.exited.then((code) => `exit:${code}`),
    Bun.sleep(timeoutMs).then(() => "timeout"),
  ]);
  if (url.startsWith("exit:")) fail(`server exited with code ${url.slice(5)} before listening`);
  if (url === "timeout") fail(`server did not listen within ${timeoutMs} ms`);
  const port = Number(new URL(url).port);

  const token = options.env?.EVSE_API_TOKEN;
  const withAuth = (init: RequestInit = {}): RequestInit => {
    if (!token) return init;
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
    return { ...init, headers };
  };
  const doFetch = (path: string, init?: RequestInit) => fetch(url + path, withAuth(init));
  const json = async (res: Response) => {
    const text = await res.text();
    let body: any = text;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body };
  };

  const deadline = Date.now() + timeoutMs;
  const poll = async (what: string, ok: () => Promise<boolean>) => {
    for (;;) {
      if (await ok().catch(() => false)) return;
      if (Date.now() > deadline) fail(`${what} within ${timeoutMs} ms`);
      await Bun.sleep(25);
    }
  };
  if (options.waitHealthy !== false) await poll("/healthz did not answer 200", async () => (await fetch(url + "/healthz")).status === 200);
  if (options.waitReady) await poll("ready did not become true", async () => (await (await doFetch("/api/v1/evses/1/vars/ready")).json()) === true);

  const server: TestServer = {
    url,
    port,
    proc,
    output,
    dir,
    fetch: doFetch,
    get: async (path) => json(await doFetch(path)),
    post: async (path, body) =>
      json(await doFetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) })),
    del: async (path) => json(await doFetch(path, { method: "DELETE" })),
    events: (opts = {}) => openEventStream(url + `/api/v1/evses/${opts.evse ?? 1}/events`, opts.lastEventId === undefined ? "0" : opts.lastEventId, withAuth()),
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await Promise.race([proc.exited, Bun.sleep(5000).then(() => -1)]);
      if (code === -1) proc.kill("SIGKILL");
      running.delete(proc);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  return server;
}

/** A small SSE client: parses `id`/`event`/`data` messages and counts keep-alive comments. */
export function openEventStream(url: string, lastEventId: string | null, init: RequestInit = {}): EventStream {
  const controller = new AbortController();
  const messages: SseMessage[] = [];
  const waiters: { pred: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }[] = [];
  let keepAlives = 0;
  const headers = new Headers(init.headers);
  if (lastEventId !== null) headers.set("last-event-id", lastEventId);

  const deliver = (m: SseMessage) => {
    messages.push(m);
    for (let k = waiters.length - 1; k >= 0; k--) {
      if (waiters[k]!.pred(m)) {
        waiters[k]!.resolve(m);
        waiters.splice(k, 1);
      }
    }
  };

  let pending: Partial<SseMessage> & { dataLines?: string[] } = {};
  const onLine = (line: string) => {
    if (line === "") {
      if (pending.dataLines) {
        const raw = pending.dataLines.join("\n");
        let data: unknown = raw;
        try {
          data = JSON.parse(raw);
        } catch {
          /* keep raw */
        }
        deliver({ id: Number(pending.id), event: pending.event ?? "message", data });
      }
      pending = {};
      return;
    }
    if (line.startsWith(":")) {
      if (line.includes("keep-alive")) keepAlives++;
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") pending.id = Number(value);
    else if (field === "event") pending.event = value;
    else if (field === "data") (pending.dataLines ??= []).push(value);
  };

  const ended = (async () => {
    try {
      const res = await fetch(url, { headers, signal: controller.signal });
      if (res.status !== 200 || !res.body) throw new Error(`event stream answered ${res.status}: ${await res.text()}`);
      await pumpLines(res.body, onLine);
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    }
  })();
  ended.catch(() => {});

  return {
    messages,
    get keepAlives() {
      return keepAlives;
    },
    ended,
    sessionEvents: () => messages.filter((m) => m.event === "session_event").map((m) => m.data.event as string),
    waitFor(pred, timeoutMs = 10_000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<SseMessage>((resolve, reject) => {
        const waiter = {
          pred,
          resolve: (m: SseMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          const seen = messages.map((m) => (m.event === "session_event" ? `session_event:${m.data?.event}` : m.event)).slice(-30);
          reject(new Error(`no matching event within ${timeoutMs} ms; last seen: ${seen.join(", ")}`));
        }, timeoutMs);
        waiters.push(waiter);
        ended.then(() => {
          if (waiters.includes(waiter)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new Error("event stream ended before a matching event"));
          }
        }, () => {});
      });
    },
    close: () => controller.abort(),
  };
}
