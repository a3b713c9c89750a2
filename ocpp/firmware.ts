// FirmwareManagement over OCPP (ocpp.md §5.11, §5.12). UpdateFirmware downloads `location` and its
// detached signature (`location` + ".sig") and hands both to the same signed-update path as
// POST /api/v1/system/update (update/service.ts), which verifies the Ed25519 signature before
// anything is installed and restarts into the new binary; a file that does not verify is never
// installed. GetDiagnostics uploads a gzip'd JSON archive (versions, configuration without
// secrets, the recent log) by HTTP PUT (POST if PUT is refused) to `location`.
import { updateService } from "../update/service.ts";
import { UpdateRejected } from "../update/install.ts";
import { TransactionWatch } from "../update/transactions.ts";
import type { ChargePoint } from "./charge-point.ts";
import type { OperationHooks } from "./operations.ts";

const INSTALLING_KEY = "ocpp.firmware_installing";

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

  private async download(url: string, retries: number, intervalS: number): Promise<Uint8Array | null> {
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
        if (res.ok) return new Uint8Array(await res.arrayBuffer());
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
    const file = await this.download(p.location, retries, interval);
    const sig = file ? await this.download(p.location + ".sig", retries, interval) : null;
    if (!file || !sig) {
      await this.firmware("DownloadFailed");
      return;
    }
    await this.firmware("Downloaded");
    // Installed only when no transaction runs.
    while (this.cp.evses.some((e) => e.view.transaction)) await Bun.sleep(1000);
    await this.firmware("Installing");
    try {
      this.cp.deps.store.kv.set(INSTALLING_KEY, true);
      const body = new Blob([file]).stream();
      await updateService().receive({ body, signature: new TextDecoder().decode(sig).trim(), contentLength: String(file.byteLength), force: false }, new TransactionWatch());
      log("ocpp: firmware verified and installed; restarting into it");
    } catch (err) {
      this.cp.deps.store.kv.delete(INSTALLING_KEY);
      log(`ocpp: firmware not installed: ${err instanceof UpdateRejected ? `${err.code}: ${err.message}` : (err as Error).message}`);
      await this.firmware("InstallationFailed");
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
