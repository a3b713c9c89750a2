// A real Mosquitto broker for tests (Debian's package: /usr/sbin/mosquitto, mosquitto_passwd),
// on a free port with a generated config and password file, optionally TLS with a CA made at
// test time with openssl. It can be killed and started again on the same port (outage tests).
//
//   const broker = await startMosquitto({ tls: true });
//   broker.url                     // mqtts://127.0.0.1:PORT
//   await broker.kill(); await broker.start();
//   await broker.stop();           // kills it and removes its directory
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MOSQUITTO = process.env.MOSQUITTO ?? "/usr/sbin/mosquitto";

export interface Broker {
  url: string;
  port: number;
  username: string;
  password: string;
  /** The CA certificate file (TLS brokers only). */
  caFile: string | null;
  dir: string;
  output: string[];
  /** Starts (again) on the same port. */
  start(): Promise<void>;
  /** SIGKILL: an outage, no goodbye to clients. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a broker that holds the connection open and answers nothing (a slow broker). */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

async function run(cmd: string[], cwd: string): Promise<void> {
  const p = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** A CA and a server certificate for 127.0.0.1, made now (never reused across runs). */
async function makeCerts(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run(["openssl", ...args], dir);
  await ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=evse-manager test CA", "-keyout", "ca.key", "-out", "ca.crt");
  await ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
}

export async function startMosquitto(options: { tls?: boolean } = {}): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), "evse-mosquitto-"));
  const port = await freePort();
  const username = "evse";
  const password = `pw-${crypto.randomUUID().slice(0, 8)}`;
  await run(["mosquitto_passwd", "-b", "-c", join(dir, "passwd"), username, password], dir);
  if (options.tls) await makeCerts(dir);
  const lines = [
    `listener ${port} 127.0.0.1`,
    "allow_anonymous false",
    `password_file ${join(dir, "passwd")}`,
    "persistence false",
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    // Run as whoever runs the tests: as root Mosquitto would switch to its own user, which
    // cannot read this temp directory.
    ...(process.getuid?.() === 0 ? ["user root"] : []),
    ...(options.tls ? [`cafile ${join(dir, "ca.crt")}`, `certfile ${join(dir, "server.crt")}`, `keyfile ${join(dir, "server.key")}`] : []),
  ];
  writeFileSync(join(dir, "mosquitto.conf"), lines.join("\n") + "\n");

  const output: string[] = [];
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  const broker: Broker = {
    url: `${options.tls ? "mqtts" : "mqtt"}://127.0.0.1:${port}`,
    port,
    username,
    password,
    caFile: options.tls ? join(dir, "ca.crt") : null,
    dir,
    output,
    async start() {
      proc = Bun.spawn([MOSQUITTO, "-c", join(dir, "mosquitto.conf")], { cwd: dir, stdout: "pipe", stderr: "pipe" });
      void new Response(proc.stderr as ReadableStream).text().then((t) => output.push(t));
      const deadline = Date.now() + 5000;
      while (!(await accepts(port))) {
        if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${output.join("")}`);
        if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${output.join("")}`);
        await Bun.sleep(20);
      }
    },
    async kill() {
      const p = proc;
      proc = null;
      if (!p) return;
      p.kill("SIGKILL");
      await p.exited;
    },
    freeze() {
      proc?.kill("SIGSTOP");
    },
    thaw() {
      proc?.kill("SIGCONT");
    },
    async stop() {
      broker.thaw();
      await broker.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  process.on("exit", () => proc?.kill("SIGKILL"));
  await broker.start();
  return broker;
}
