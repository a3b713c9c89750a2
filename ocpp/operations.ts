// The CSMS-initiated operations of ocpp.md §5, answered with libocpp v0.23.2's status values. The
// RPC layer has already checked each request against the OCPP 1.6 schema (a bad one never gets
// here and changes nothing); each handler checks the request against the charge point's state,
// answers, and only then acts, so the answer is never delayed by our own calls.
import type { OcppEvse } from "./charge-point.ts";
import type { ChargePoint } from "./charge-point.ts";
import type { ChargingProfile } from "./smart-charging-adapter.ts";

/** Runs `work` after the CALLRESULT has gone out. */
const after = (work: () => unknown): void => {
  setTimeout(() => void Promise.resolve().then(work).catch(() => {}), 20);
};

export interface OperationHooks {
  updateFirmware(params: { location: string; retrieveDate: string; retries?: number; retryInterval?: number }): void;
  getDiagnostics(params: { location: string; retries?: number; retryInterval?: number; startTime?: string; stopTime?: string }): string | null;
  firmwareStatus(): string;
  diagnosticsStatus(): string;
}

export function registerOperations(cp: ChargePoint, hooks: OperationHooks): void {
  const c = cp.connection;
  const n = () => cp.evses.length;
  const evse = (id: number): OcppEvse | undefined => (id >= 1 && id <= n() ? cp.evses[id - 1] : undefined);
  const faulted = (e: OcppEvse) => e.fault !== null;

  /** Can this connector start a transaction for `idTag` (§5.1)? */
  const canStart = (e: OcppEvse, idTag: string): boolean => {
    if (faulted(e) || !e.view.enabled || e.view.transaction || e.view.finishing || e.view.authorized) return false;
    const r = cp.reservations.on(e.index);
    return !r || r.idTag.toLowerCase() === idTag.toLowerCase();
  };

  c.handle("RemoteStartTransaction", (p: { connectorId?: number; idTag: string; chargingProfile?: ChargingProfile }) => {
    if (cp.registration !== "Accepted") return { status: "Rejected" };
    if (p.chargingProfile && p.chargingProfile.chargingProfilePurpose !== "TxProfile") return { status: "Rejected" };
    let target: OcppEvse | undefined;
    if (p.connectorId !== undefined) {
      target = evse(p.connectorId);
      if (!target || !canStart(target, p.idTag)) return { status: "Rejected" };
    } else {
      target = cp.evses.find((e) => canStart(e, p.idTag));
      if (!target) return { status: "Rejected" };
    }
    const index = target.index;
    // Checked now and held for that transaction; its limit reaches the kernel before the token does,
    // so the session's first PWM offer already carries it [D-O 6].
    if (p.chargingProfile && cp.smartCharging?.setForRemoteStart(index, p.chargingProfile) !== "Accepted") return { status: "Rejected" };
    after(async () => {
      const result = await cp.frontEnd!.present({
        id_token: { value: p.idTag, type: "Central" },
        authorization_type: "OCPP",
        evse: index,
        prevalidated: !cp.config.bool("AuthorizeRemoteTxRequests"),
      });
      cp.deps.log(`ocpp: RemoteStartTransaction ${p.idTag} on ${index}: ${result.result}${result.authorization_status ? ` (${result.authorization_status})` : ""}`);
      if (result.result !== "Authorized" && p.chargingProfile) cp.smartCharging?.dropRemoteStartProfile(index);
    });
    return { status: "Accepted" };
  });

  c.handle("RemoteStopTransaction", (p: { transactionId: number }) => {
    if (cp.registration !== "Accepted") return { status: "Rejected" };
    const e = cp.evses.find((x) => x.view.transaction && cp.csmsTransactionId(x.index) === p.transactionId);
    if (!e) return { status: "Rejected" };
    after(() => e.kernel.command("stop_transaction", { request: { reason: "Remote" } }));
    return { status: "Accepted" };
  });

  c.handle("UnlockConnector", async (p: { connectorId: number }) => {
    const e = evse(p.connectorId);
    if (!e) return { status: "NotSupported" };
    if (e.view.transaction) {
      await e.kernel.command("stop_transaction", { request: { reason: "UnlockCommand" } }).catch(() => false);
      // Closed relays keep the lock engaged (behavior.md §7.6): unlock once the stop has opened them.
      for (let i = 0; i < 100 && e.view.transaction; i++) await Bun.sleep(50);
    }
    const ok = await e.kernel.command("force_unlock", { connector_id: 1 }).catch(() => false);
    return { status: ok === true ? "Unlocked" : "UnlockFailed" };
  });

  c.handle("ChangeAvailability", (p: { connectorId: number; type: "Operative" | "Inoperative" }) => {
    if (p.connectorId < 0 || p.connectorId > n()) return { status: "Rejected" };
    const busy = p.connectorId === 0 ? cp.evses.some((e) => e.view.transaction) : Boolean(evse(p.connectorId)!.view.transaction);
    if (busy) {
      cp.scheduledAvailability.set(p.connectorId, p.type);
      return { status: "Scheduled" };
    }
    cp.scheduledAvailability.delete(p.connectorId);
    after(() => cp.setAvailability(p.connectorId, p.type));
    return { status: "Accepted" };
  });

  c.handle("Reset", (p: { type: "Soft" | "Hard" }) => {
    if (cp.resetting) return { status: "Accepted" };
    cp.resetting = p.type;
    after(async () => {
      cp.deps.log(`ocpp: ${p.type} reset requested by the CSMS`);
      for (const e of cp.evses) {
        if (e.view.transaction) await e.kernel.command("stop_transaction", { request: { reason: p.type === "Hard" ? "HardReset" : "SoftReset" } }).catch(() => {});
      }
      // StopTransactions acknowledged, or 60 s at most.
      await Promise.race([Bun.sleep(500).then(() => cp.queue.whenEmpty()), Bun.sleep(60_000)]);
      cp.deps.restart(p.type);
    });
    return { status: "Accepted" };
  });

  c.handle("ReserveNow", async (p: { connectorId: number; expiryDate: string; idTag: string; parentIdTag?: string; reservationId: number }) => {
    if (p.connectorId > n()) return { status: "Rejected" };
    if (p.connectorId === 0 && !cp.config.bool("ReserveConnectorZeroSupported")) return { status: "Rejected" };
    const expiry = Date.parse(p.expiryDate);
    if (!(expiry > cp.deps.now())) return { status: "Rejected" };
    const candidates = p.connectorId === 0 ? cp.evses : [evse(p.connectorId)!];
    const existing = cp.reservations.get(p.reservationId);
    let status = "Occupied";
    for (const e of candidates) {
      if (faulted(e)) {
        status = candidates.length === 1 ? "Faulted" : status;
        continue;
      }
      if (!e.view.enabled) {
        status = candidates.length === 1 ? "Unavailable" : status;
        continue;
      }
      const other = cp.reservations.on(e.index);
      if (e.view.sessionUuid !== null || e.view.plugged || e.view.transaction || e.view.finishing || (other && other.id !== p.reservationId)) continue;
      if (existing && existing.evse !== e.index) cp.reservations.drop(existing.id);
      const ok = await e.kernel.command("reserve", { reservation_id: p.reservationId }).catch(() => false);
      if (ok !== true) continue;
      cp.reservations.add({ id: p.reservationId, evse: e.index, idTag: p.idTag, ...(p.parentIdTag ? { parentIdTag: p.parentIdTag } : {}), expiry });
      return { status: "Accepted" };
    }
    return { status };
  });

  c.handle("CancelReservation", (p: { reservationId: number }) => ({ status: cp.reservations.drop(p.reservationId) ? "Accepted" : "Rejected" }));

  c.handle("TriggerMessage", (p: { requestedMessage: string; connectorId?: number }) => {
    if (p.connectorId !== undefined && (p.connectorId < 0 || p.connectorId > n())) return { status: "Rejected" };
    const connectors = p.connectorId === undefined ? [0, ...cp.evses.map((e) => e.index)] : [p.connectorId];
    switch (p.requestedMessage) {
      case "BootNotification":
        after(() => cp.boot());
        break;
      case "Heartbeat":
        after(() => cp.connection.call("Heartbeat", {}));
        break;
      case "StatusNotification":
        after(() => connectors.forEach((id) => cp.sendStatus(id, true)));
        break;
      case "MeterValues":
        after(() => connectors.forEach((id) => id > 0 && cp.sample(cp.evses[id - 1]!, "Trigger")));
        break;
      case "FirmwareStatusNotification":
        after(() => cp.connection.call("FirmwareStatusNotification", { status: hooks.firmwareStatus() }));
        break;
      case "DiagnosticsStatusNotification":
        after(() => cp.connection.call("DiagnosticsStatusNotification", { status: hooks.diagnosticsStatus() }));
        break;
      default:
        return { status: "NotImplemented" };
    }
    return { status: "Accepted" };
  });

  c.handle("GetConfiguration", (p: { key?: string[] }) => {
    const { known, unknown } = cp.config.list(p.key);
    return { configurationKey: known.map((k) => ({ key: k.key, readonly: k.readonly, value: k.value })), ...(unknown.length > 0 ? { unknownKey: unknown } : {}) };
  });

  c.handle("ChangeConfiguration", (p: { key: string; value: string }) => ({ status: cp.config.change(p.key, p.value) }));

  c.handle("ClearCache", () => {
    cp.cache.clear();
    return { status: "Accepted" };
  });

  c.handle("SendLocalList", (p: { listVersion: number; updateType: "Full" | "Differential"; localAuthorizationList?: { idTag: string; idTagInfo?: { status: "Accepted" | "Blocked" | "Expired" | "Invalid" | "ConcurrentTx"; expiryDate?: string; parentIdTag?: string } }[] }) => {
    if (!cp.config.bool("LocalAuthListEnabled")) return { status: "NotSupported" };
    if ((p.localAuthorizationList?.length ?? 0) > cp.config.int("SendLocalListMaxLength")) return { status: "Failed" };
    return { status: cp.localList.apply(p, cp.config.int("LocalAuthListMaxLength")) };
  });

  c.handle("GetLocalListVersion", () => ({ listVersion: cp.config.bool("LocalAuthListEnabled") ? cp.localList.version : -1 }));

  c.handle("DataTransfer", () => ({ status: "UnknownVendorId" }));

  // Smart charging (§5.7): smart-charging-adapter.ts decides, persists and applies (enforce_limits
  // is queued in the kernel, so the answer is not delayed by it).
  c.handle("SetChargingProfile", (p: { connectorId: number; csChargingProfiles: ChargingProfile }) => {
    const sc = cp.smartCharging;
    return { status: sc ? sc.set(p.connectorId, p.csChargingProfiles) : "NotSupported" };
  });

  c.handle("ClearChargingProfile", (p: { id?: number; connectorId?: number; chargingProfilePurpose?: ChargingProfile["chargingProfilePurpose"]; stackLevel?: number }) => {
    const sc = cp.smartCharging;
    return { status: sc ? sc.clear(p) : "Unknown" };
  });

  c.handle("GetCompositeSchedule", (p: { connectorId: number; duration: number; chargingRateUnit?: "A" | "W" }) => {
    const sc = cp.smartCharging;
    return sc ? sc.getCompositeSchedule(p) : { status: "Rejected" };
  });

  c.handle("UpdateFirmware", (p: { location: string; retrieveDate: string; retries?: number; retryInterval?: number }) => {
    hooks.updateFirmware(p);
    return {};
  });

  c.handle("GetDiagnostics", (p: { location: string; retries?: number; retryInterval?: number; startTime?: string; stopTime?: string }) => {
    const fileName = hooks.getDiagnostics(p);
    return fileName ? { fileName } : {};
  });

}
