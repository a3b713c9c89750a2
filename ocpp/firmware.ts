// FirmwareManagement over OCPP (ocpp.md §5.11, §5.12). UpdateFirmware downloads `location` and its
// detached signature (`location` + ".sig") and hands both to the same signed-update path as
// POST /api/v1/system/update (update/service.ts), which verifies the Ed25519 signature before
// anything is installed and restarts into the new binary; a file that does not verify is never
// installed. GetDiagnostics uploads a gzip'd JSON archive (versions, configuration without
// secrets, the recent log) by HTTP PUT (POST if PUT is refused) to `location`.
import { rmSync } from "node:fs";
import { updateService } from "../update/service.ts";
import { UpdateRejected } from "../update/install.ts";
import { TransactionWatch } from "../update/transactions.ts";
import type { ChargePoint } from "./charge-point.ts";
import type { OperationHooks } from "./operations.ts";

const INSTALLING_KEY = "ocpp.firmware_installing";
const DOWNLOAD_TIMEOUT_MS = 120_000;
/** A detached Ed25519 signature is 88 characters of base64. */
const MAX_SIGNATURE_BYTES = 4096;

/** Writes a response body to `path` as it arrives, refusing one larger than `limit`; its size. */
async function saveBody(res: Response, path: string, limit: number): Promise<number> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > limit) throw new Error(`${declared} bytes is more than an update may be (${limit})`);
  const sink = Bun.file(path).writer();
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > limit) throw new Error(`more than an update may be (${limit} bytes)`);
      sink.write(chunk);
      await sink.flush();
    }
  } finally {
    await sink.end();
  }
  return size;
}

/** A small response body as text, refusing (without reading on) one larger than `limit`. */
async function readSmall(res: Response, limit: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`the signature file is larger than ${limit} bytes`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

export class FirmwareManager implements OperationHooks {
  private fwStatus = "Idle";
  private diagStatus = "Idle";
  private busy = false;

  constructor(
    private readonly cp: ChargePoint,
    private readonly diagnosticsConfig: () => unknown,
  ) {
    // An update that restarted the program is reported Installed once the CSMS accepted the boot.
    cp.onAccepted(() => {
      if (cp.deps.store.kv.get(INSTALLING_KEY) === true) {
        cp.deps.store.kv.delete(INSTALLING_KEY);
        void this.firmware("Installed");
      }
    });
  }

  firmwareStatus(): string {
    return this.fwStatus;
  }

  diagnosticsStatus(): string {
    return this.diagStatus;
  }

  private async firmware(status: string): Promise<void> {
    this.fwStatus = status;
    await this.cp.connection.call("FirmwareStatusNotification", { status }).catch(() => {});
  }

  private async diagnostics(status: string): Promise<void> {
    this.diagStatus = status;
    await this.cp.connection.call("DiagnosticsStatusNotification", { status }).catch(() => {});
  }

  updateFirmware(p: { location: string; retrieveDate: string; retries?: number; retryInterval?: number }): void {
    if (this.busy) return;
    this.busy = true;
    setTimeout(() => void this.runUpdate(p).finally(() => (this.busy = false)), Math.max(20, Date.parse(p.retrieveDate) - this.cp.deps.now()));
  }

  /** GETs `url` (with the request's retries) and hands a 2xx answer to `take`; null when every
   *  attempt failed. */
  private async download<T>(url: string, retries: number, intervalS: number, take: (res: Response) => Promise<T>): Promise<T | null> {
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
        if (res.ok) return await take(res);
        this.cp.deps.log(`ocpp: firmware download ${url}: HTTP ${res.status}`);
      } catch (err) {
        this.cp.deps.log(`ocpp: firmware download ${url}: ${(err as Error).message}`);
      }
      if (attempt < retries) await Bun.sleep(intervalS * 1000);
    }
    return null;
  }

  private async runUpdate(p: { location: string; retries?: number; retryInterval?: number }): Promise<void> {
    const log = this.cp.deps.log;
    if (!/^https?:\/\//.test(p.location)) {
      await this.firmware("DownloadFailed");
      return;
    }
    await this.firmware("Downloading");
    const retries = Math.min(p.retries ?? 1, 10);
    const interval = Math.min(p.retryInterval ?? 10, 3600);
    // The binary goes to disk as it arrives (a gateway may not have its size in memory to spare),
    // no larger than an update may be; then its signature.
    const service = updateService();
    const path = service.downloadPath();
    try {
      const size = await this.download(p.location, retries, interval, (res) => saveBody(res, path, service.maxBytes));
      const sig = size === null ? null : await this.download(p.location + ".sig", retries, interval, (res) => readSmall(res, MAX_SIGNATURE_BYTES));
      if (size === null || sig === null) {
        await this.firmware("DownloadFailed");
        return;
      }
      await this.firmware("Downloaded");
      // Installed only when no transaction runs.
      while (this.cp.evses.some((e) => e.view.transaction)) await Bun.sleep(1000);
      await this.firmware("Installing");
      try {
        this.cp.deps.store.kv.set(INSTALLING_KEY, true);
        await service.receive({ body: Bun.file(path).stream(), signature: sig.trim(), contentLength: String(size), force: false }, new TransactionWatch());
        log("ocpp: firmware verified and installed; restarting into it");
      } catch (err) {
        this.cp.deps.store.kv.delete(INSTALLING_KEY);
        log(`ocpp: firmware not installed: ${err instanceof UpdateRejected ? `${err.code}: ${err.message}` : (err as Error).message}`);
        await this.firmware("InstallationFailed");
      }
    } finally {
      rmSync(path, { force: true });
    }
  }

  getDiagnostics(p: { location: string; retries?: number; retryInterval?: number }): string | null {
    const id = this.cp.deps.options.charge_point_id ?? "cp";
    const fileName = `diagnostics-${id}-${new Date(this.cp.deps.now()).toISOString().replace(/[:.]/g, "-")}.json.gz`;
    setTimeout(() => void this.upload(p, fileName), 20);
    return fileName;
  }

  private async upload(p: { location: string; retries?: number; retryInterval?: number }, fileName: string): Promise<void> {
    await this.diagnostics("Uploading");
    // Bun.gzipSync, not node:zlib: the bundle imports a node: module at start-up wherever it is
    // used, and node:zlib brings node:stream with it (README, "Measured figures").
    const archive = Bun.gzipSync(
      JSON.stringify({
        created: new Date(this.cp.deps.now()).toISOString(),
        versions: { evse_manager: this.cp.deps.version, bun: Bun.version, platform: `${process.platform}-${process.arch}` },
        configuration: this.diagnosticsConfig(),
        ocpp: { ...this.cp.snapshot(), keys: this.cp.config.list().known },
        log: this.cp.recentLog(),
      }),
    );
    const url = p.location.endsWith("/") ? p.location + fileName : p.location;
    const retries = Math.min(p.retries ?? 1, 10);
    if (/^https?:\/\//.test(url)) {
      for (let attempt = 0; attempt <= retries; attempt++) {
        for (const method of ["PUT", "POST"]) {
          try {
            const res = await fetch(url, { method, body: archive, headers: { "content-type": "application/gzip", "x-file-name": fileName }, signal: AbortSignal.timeout(60_000) });
            if (res.ok) {
              await this.diagnostics("Uploaded");
              return;
            }
            this.cp.deps.log(`ocpp: diagnostics ${method} ${url}: HTTP ${res.status}`);
          } catch (err) {
            this.cp.deps.log(`ocpp: diagnostics ${method} ${url}: ${(err as Error).message}`);
          }
        }
        if (attempt < retries) await Bun.sleep(Math.min(p.retryInterval ?? 10, 3600) * 1000);
      }
    }
    await this.diagnostics("UploadFailed");
  }
}
