// One over-the-air update, from the request to the restart: refuse what cannot be installed
// (no key, not a compiled binary, no supervisor to roll back, another update under way or on
// trial), stage the upload and prove it runs here (signature, ELF, `--version`: install.ts),
// swap it in, and restart into it when no transaction is open. The
// restart is an exit with UPDATE_EXIT_CODE; the supervisor (supervisor.ts), running the
// previous binary's code, starts the new file and watches it (docs/integrators.md).
import type { KeyObject } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { install, onTrial, pathsFor, stage, UpdateRejected, verifyStaged } from "./install.ts";
import { decodeSignature, KeyError, parsePublicKey } from "./signature.ts";
import type { TransactionWatch } from "./transactions.ts";

/** Exit code asking the supervisor to start the binary file again (EX_TEMPFAIL). */
export const UPDATE_EXIT_CODE = 75;
/** Set by the supervisor in its child's environment. */
export const SUPERVISED_ENV = "EVSE_MANAGER_SUPERVISED";
export const SIGNATURE_HEADER = "x-update-signature";

/** Inside a compiled binary the modules live in Bun's embedded file system. */
export const COMPILED = import.meta.url.includes("$bunfs");

export interface UpdateServiceOptions {
  /** The running binary; null when running from source (updates are refused). */
  exe: string | null;
  publicKey?: string;
  maxBytes: number;
  supervised: boolean;
  arch: string;
  /** Stops charging cleanly and exits with UPDATE_EXIT_CODE. */
  restart(): void;
  log(line: string): void;
}

export interface UpdateRequest {
  body: ReadableStream<Uint8Array> | null;
  signature: string | undefined;
  contentLength: string | undefined;
  force: boolean;
}

export interface UpdateAccepted {
  installed: true;
  sha256: string;
  size: number;
  /** "now": the program restarts into the new binary at once; "when_idle": after the open transactions. */
  restart: "now" | "when_idle";
  active_transactions: number[];
}

export class UpdateService {
  readonly #opts: UpdateServiceOptions;
  readonly #key: KeyObject | null;
  readonly #keyProblem: string | null;
  #state: "idle" | "receiving" | "installed" = "idle";

  constructor(opts: UpdateServiceOptions) {
    this.#opts = opts;
    let key: KeyObject | null = null;
    let problem: string | null = null;
    if (opts.publicKey === undefined) problem = "updates are disabled: update.public_key is not set in the configuration";
    else {
      try {
        key = parsePublicKey(opts.publicKey);
      } catch (err) {
        if (!(err instanceof KeyError)) throw err;
        problem = `update.public_key ${err.message}`;
      }
    }
    this.#key = key;
    this.#keyProblem = problem;
  }

  /** The largest binary accepted (update.max_size_mb). */
  get maxBytes(): number {
    return this.#opts.maxBytes;
  }

  /** Where a binary fetched for an update (OCPP UpdateFirmware) waits on disk before it is handed
   *  to `receive`: beside the running binary, on the disk it will be installed to (a system's
   *  temporary directory may be memory). */
  downloadPath(): string {
    return this.#opts.exe === null ? join(tmpdir(), `evse-manager-${process.pid}.download`) : `${this.#opts.exe}.download`;
  }

  async receive(req: UpdateRequest, transactions: TransactionWatch): Promise<UpdateAccepted> {
    const reader: BodyReader | null = (req.body?.getReader() as BodyReader | undefined) ?? null;
    try {
      return await this.#receive(req, reader, transactions);
    } catch (err) {
      // Too large: stop reading at once; the server answers and ends the connection
      // (api/server.ts). Any other refusal of an authenticated client: take the rest of the body
      // (up to the size limit, thrown away) so that it gets to read the answer instead of
      // failing on a connection closed while it sends.
      if (reader !== null) {
        if (err instanceof UpdateRejected && err.status === 413) reader.cancel().catch(() => {});
        else await drain(reader, this.#opts.maxBytes + (1 << 20));
      }
      throw err;
    }
  }

  async #receive(req: UpdateRequest, reader: BodyReader | null, transactions: TransactionWatch): Promise<UpdateAccepted> {
    const o = this.#opts;
    if (this.#key === null) throw new UpdateRejected(409, "update_not_configured", this.#keyProblem ?? "updates are disabled");
    if (o.exe === null) throw new UpdateRejected(409, "not_a_binary", "the program runs from source, not as the compiled binary: there is no binary to replace");
    if (!o.supervised) {
      throw new UpdateRejected(409, "not_supervised", "the program does not run under `evse-manager supervise`, so a failed update could not be rolled back");
    }
    if (this.#state !== "idle") {
      throw new UpdateRejected(409, "update_in_progress", this.#state === "receiving" ? "another update is being received" : "an update is installed and waits for the restart");
    }
    const paths = pathsFor(o.exe);
    if (onTrial(paths)) {
      // .previous must stay the binary that last proved healthy: no update on top of one on trial.
      throw new UpdateRejected(409, "update_in_progress", "the running binary is an update still on trial; send the next one once it is committed");
    }
    if (req.signature === undefined || req.signature.trim() === "") {
      throw new UpdateRejected(400, "missing_signature", "X-Update-Signature header is missing: the detached Ed25519 signature (base64) of the binary, as sign-update writes it");
    }
    const signature = decodeSignature(req.signature);
    if (signature === null) throw new UpdateRejected(400, "invalid_signature", "X-Update-Signature: not a base64 Ed25519 signature (64 bytes)");
    if (req.contentLength !== undefined && Number(req.contentLength) > o.maxBytes) {
      throw new UpdateRejected(413, "update_too_large", `the upload (${req.contentLength} bytes) is larger than update.max_size_mb (${o.maxBytes} bytes)`);
    }
    if (reader === null) throw new UpdateRejected(400, "empty_update", "the request body is empty: send the new binary as the body");

    this.#state = "receiving";
    try {
      const staged = await stage(chunks(reader), paths, o.maxBytes);
      await verifyStaged(paths, staged, signature, this.#key, o.arch);
      install(paths, staged);
      this.#state = "installed";
      const active = transactions.active();
      const now = req.force || active.length === 0;
      o.log(`update ${staged.sha256} installed (${staged.size} bytes); ${now ? "restarting into it" : `restart after the transactions on EVSE ${active.join(", ")}`}`);
      // A moment for the 202 to leave before the server goes away.
      const restart = () => setTimeout(() => o.restart(), 200);
      if (now) restart();
      else void transactions.whenIdle().then(restart);
      return { installed: true, sha256: staged.sha256, size: staged.size, restart: now ? "now" : "when_idle", active_transactions: active };
    } catch (err) {
      this.#state = "idle";
      throw err;
    }
  }
}

/** What is used of a body's reader (kept structural: Bun's and node's stream types differ). */
interface BodyReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(): Promise<void>;
}

/** The body's chunks; stopping early leaves the rest for receive() to drain or cancel. */
async function* chunks(reader: BodyReader): AsyncGenerator<Uint8Array> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

async function drain(reader: BodyReader, limit: number): Promise<void> {
  let seen = 0;
  try {
    while (seen <= limit) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client went away: nothing left to drain
  }
}

let current: UpdateService | null = null;

/** main.ts configures the service once the server's restart path exists. */
export function configureUpdates(opts: UpdateServiceOptions): void {
  current = new UpdateService(opts);
}

/** The configured service; without one (tests, embedding), updates are refused as not configured. */
export function updateService(): UpdateService {
  return (current ??= new UpdateService({ exe: null, maxBytes: 0, supervised: false, arch: process.arch, restart() {}, log() {} }));
}

/** Tells the supervisor where the health check is (it polls it while the binary is on trial). */
export function announceListening(host: string, port: number): void {
  if (process.env[SUPERVISED_ENV] !== "1" || typeof process.send !== "function") return;
  const h = host === "0.0.0.0" ? "127.0.0.1" : host === "::" || host === "[::]" ? "::1" : host.replace(/^\[|\]$/g, "");
  process.send({ kind: "listening", url: `http://${h.includes(":") ? `[${h}]` : h}:${port}` });
}
