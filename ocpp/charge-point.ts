// The OCPP 1.6J charge point (ocpp.md): BootNotification and Heartbeat, connector status from
// session events, transactions and meter values through the persistent queue, and the state the
// CSMS operations (operations.ts) act on. An adapter only: it follows the kernel's publications and
// sends it commands; charging never waits for it (§8).
import type { AuthOptions, OcppOptions } from "../core/config/index.ts";
import type { EvseKernel } from "../core/kernel-api.ts";
import type { Powermeter, SessionEvent, StopTransactionReason } from "../core/types/index.ts";
import type { OcppStore, QueuedMessage } from "../store/index.ts";
import { AuthCache } from "../auth/auth-cache.ts";
import { EvseView } from "../auth/evse-view.ts";
import type { IdTagInfo } from "../auth/id-tag-info.ts";
import { LocalList } from "../auth/local-list.ts";
import type { TokenFrontEnd } from "../auth/token-front-end.ts";
import type { OcppAuthority } from "../auth/validator.ts";
import { OcppConfiguration } from "./configuration.ts";
import { CsmsConnection } from "./connection.ts";
import { ConnectorStatus, type ChargePointStatus } from "./connector-status.ts";
import { clip50, ocppErrorCode, type ChargePointErrorCode } from "./error-codes.ts";
import { meterStart, sampledValues, type MeterValue, type ReadingContext } from "./meter-values.ts";
import { ReservationBook } from "./reservations.ts";
import { StatusStability } from "./status-stability.ts";
import type { SmartChargingAdapter } from "./smart-charging-adapter.ts";
import { TransactionQueue } from "./transaction-queue.ts";

export type Registration = "Accepted" | "Pending" | "Rejected";

export interface OcppEvse {
  index: number;
  kernel: EvseKernel;
  view: EvseView;
  status: ConnectorStatus;
  latest: Powermeter | null;
  offeredA: number | null;
  fault: { code: ChargePointErrorCode; vendorErrorCode: string; info: string } | null;
  sampleTimer: ReturnType<typeof setInterval> | null;
  /** Samples kept for StopTransaction.transactionData (StopTxnSampledData/StopTxnAlignedData). */
  stopSamples: MeterValue[];
  startSigned: { value: string; timestamp: string } | null;
}

export interface ChargePointDeps {
  options: OcppOptions;
  auth: AuthOptions;
  store: OcppStore;
  version: string;
  log(line: string): void;
  now(): number;
  /** Reset: close everything and start the program again. */
  restart(kind: "Soft" | "Hard"): void;
}

/** Kernel stop reasons OCPP 1.6 has a name for; every other reason is Other (ocpp.md §4). */
const OCPP_REASONS = new Set(["EmergencyStop", "EVDisconnected", "HardReset", "Local", "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand", "DeAuthorized"]);
export const ocppReason = (r: StopTransactionReason | undefined): string => (r && OCPP_REASONS.has(r) ? r : "Other");

/** OCPP 1.6 IdToken is at most 20 characters. */
export const idTag20 = (s: string): string => s.slice(0, 20);

export interface OcppMetrics {
  messages: Map<string, number>; // "in|out action kind" → count
  callErrors: number;
}

export class ChargePoint implements OcppAuthority {
  readonly config: OcppConfiguration;
  readonly connection: CsmsConnection;
  readonly queue: TransactionQueue;
  readonly localList: LocalList;
  readonly cache: AuthCache;
  readonly evses: OcppEvse[] = [];
  readonly reservations: ReservationBook;
  registration: Registration | null = null;
  lastError: string | null = null;
  readonly metrics: OcppMetrics = { messages: new Map(), callErrors: 0 };
  frontEnd: TokenFrontEnd | null = null;
  smartCharging: SmartChargingAdapter | null = null;
  /** ChangeAvailability waiting for a transaction to end: connector → type. */
  readonly scheduledAvailability = new Map<number, "Operative" | "Inoperative">();
  resetting: "Soft" | "Hard" | null = null;

  private bootTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private alignedTimer: ReturnType<typeof setTimeout> | null = null;
  private faultTimer: ReturnType<typeof setInterval> | null = null;
  private readonly sent = new Map<number, string>();
  private readonly stability: StatusStability;

  private readonly acceptedListeners: (() => void)[] = [];
  private readonly logRing: string[] = [];

  readonly deps: ChargePointDeps;

  constructor(deps: ChargePointDeps, evseCount: number) {
    const log = deps.log;
    // The last lines are kept for GetDiagnostics.
    deps = { ...deps, log: (line) => {
      this.logRing.push(`${new Date().toISOString()} ${line}`);
      if (this.logRing.length > 500) this.logRing.shift();
      log(line);
    } };
    this.deps = deps;
    this.config = new OcppConfiguration(deps.store.kv, deps.options.configuration, evseCount);
    this.stability = new StatusStability(() => this.config.int("MinimumStatusDuration") * 1000, deps.now, (connector) => this.sendStatus(connector));
    this.localList = new LocalList(deps.store.kv);
    this.cache = new AuthCache(deps.store.kv);
    this.connection = new CsmsConnection(
      deps.options,
      {
        open: () => this.onOpen(),
        close: () => this.onClose(),
        message: (dir, kind, action, id, code) => {
          const name = `${dir}|${action ?? "-"}|${kind}`;
          this.metrics.messages.set(name, (this.metrics.messages.get(name) ?? 0) + 1);
          if (kind === "CALLERROR") this.metrics.callErrors++;
          deps.log(`ocpp ${dir === "in" ? "<-" : "->"} ${kind} ${action ?? "-"} id=${id}${code ? ` code=${code}` : ""}`);
        },
        error: (text) => {
          this.lastError = text;
          deps.log(`ocpp: ${text}`);
        },
      },
      () => this.config.int("WebSocketPingInterval"),
    );
    this.reservations = new ReservationBook(deps.now, (evse) => void this.evses[evse - 1]?.kernel.command("cancel_reservation", {}).catch(() => {}), deps.log);
    this.queue = new TransactionQueue(deps.store, { connected: () => this.connection.connected, call: (a, p) => this.connection.call(a, p) }, this.config, (m, p, r) => this.onQueued(m, p, r), deps.log);
    this.config.onChange((key) => {
      if (key === "HeartbeatInterval") this.startHeartbeat();
      if (key === "WebSocketPingInterval") this.connection.setPingInterval(this.config.int("WebSocketPingInterval"));
      if (key === "ClockAlignedDataInterval") this.scheduleAligned();
      if (key === "MeterValueSampleInterval") for (const e of this.evses) if (e.view.transaction) this.startSampling(e);
    });
  }

  /** Called for every EVSE before its kernel boots, so the boot-time TransactionFinished{PowerLoss} is seen. */
  attach(index: number, kernel: EvseKernel): OcppEvse {
    const e: OcppEvse = { index, kernel, view: new EvseView(index), status: new ConnectorStatus(), latest: null, offeredA: null, fault: null, sampleTimer: null, stopSamples: [], startSigned: null };
    this.evses[index - 1] = e;
    return e;
  }

  start(): void {
    this.connection.start();
    this.faultTimer = setInterval(() => this.pollFaults(), 250);
    this.scheduleAligned();
    void this.applyStoredAvailability();
    // Profiles kept from the previous run apply from the start.
    this.smartCharging?.applyAll();
  }

  async stop(): Promise<void> {
    for (const t of [this.bootTimer, this.alignedTimer]) if (t) clearTimeout(t);
    for (const t of [this.heartbeatTimer, this.faultTimer]) if (t) clearInterval(t);
    this.stability.stop();
    for (const e of this.evses) if (e.sampleTimer) clearInterval(e.sampleTimer);
    this.reservations.clear();
    this.queue.stop();
    this.smartCharging?.stop();
    await this.connection.stop();
  }

  // ---- OcppAuthority (auth/validator.ts)

  online(): boolean {
    return this.connection.connected && this.registration === "Accepted";
  }

  bool(key: string): boolean {
    return this.config.bool(key);
  }

  async authorize(idTag: string): Promise<IdTagInfo | null> {
    try {
      const conf = await this.connection.call("Authorize", { idTag: idTag20(idTag) }, 30_000);
      this.updateCache(idTag, conf.idTagInfo);
      return conf.idTagInfo as IdTagInfo;
    } catch (err) {
      this.deps.log(`ocpp: Authorize ${idTag} got no answer: ${(err as Error).message}`);
      return null;
    }
  }

  updateCache(idTag: string | undefined, info: IdTagInfo | undefined): void {
    if (idTag && info && this.config.bool("AuthorizationCacheEnabled")) this.cache.update(idTag, info);
  }

  // ---- connection and boot

  private onOpen(): void {
    this.lastError = null;
    this.sent.clear();
    if (this.registration === "Accepted") this.afterAccepted();
    else void this.boot();
  }

  private onClose(): void {
    this.queue.setReady(false);
    if (this.bootTimer) clearTimeout(this.bootTimer);
    this.bootTimer = null;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.deps.log("ocpp: connection to the CSMS closed");
  }

  async boot(): Promise<void> {
    const o = this.deps.options;
    const req = {
      chargePointVendor: o.vendor,
      chargePointModel: o.model,
      ...(o.serial_number ? { chargePointSerialNumber: o.serial_number } : {}),
      firmwareVersion: this.deps.version.slice(0, 50),
    };
    let retryS = 10;
    try {
      const conf = await this.connection.call("BootNotification", req);
      this.registration = conf.status;
      if (conf.interval > 0) retryS = conf.interval;
      if (conf.status === "Accepted") {
        if (conf.interval > 0) this.config.setInternal("HeartbeatInterval", String(conf.interval));
        this.afterAccepted();
        return;
      }
      this.deps.log(`ocpp: BootNotification ${conf.status}; again in ${retryS} s`);
    } catch (err) {
      if (!this.connection.connected) return;
      this.lastError = `BootNotification: ${(err as Error).message}`;
    }
    if (this.bootTimer) clearTimeout(this.bootTimer);
    this.bootTimer = setTimeout(() => {
      this.bootTimer = null;
      if (this.connection.connected) void this.boot();
    }, retryS * 1000);
  }

  private afterAccepted(): void {
    this.startHeartbeat();
    this.sendStatus(0, true);
    for (const e of this.evses) this.sendStatus(e.index, true);
    this.queue.setReady(true);
    for (const listener of this.acceptedListeners) listener();
  }

  onAccepted(listener: () => void): void {
    this.acceptedListeners.push(listener);
  }

  recentLog(): string[] {
    return [...this.logRing];
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const s = this.config.int("HeartbeatInterval");
    if (s <= 0 || !this.online()) return;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), s * 1000);
  }

  async heartbeat(): Promise<void> {
    if (!this.online()) return;
    await this.connection.call("Heartbeat", {}).catch(() => {});
  }

  // ---- status (§3)

  /** Connector 0 is the charge point: Unavailable after ChangeAvailability(0, Inoperative). */
  private availability(connector: number): "Operative" | "Inoperative" {
    const stored = this.deps.store.kv.get("ocpp.availability") as Record<string, string> | null;
    return stored?.[String(connector)] === "Inoperative" ? "Inoperative" : "Operative";
  }

  effectiveStatus(connector: number): { status: ChargePointStatus; errorCode: ChargePointErrorCode; info?: string; vendorErrorCode?: string } {
    if (connector === 0) {
      if (this.evses.length > 0 && this.evses.every((e) => e.fault)) return { status: "Faulted", errorCode: this.evses[0]!.fault!.code };
      return { status: this.availability(0) === "Inoperative" ? "Unavailable" : "Available", errorCode: "NoError" };
    }
    const e = this.evses[connector - 1]!;
    if (e.fault) return { status: "Faulted", errorCode: e.fault.code, info: e.fault.info, vendorErrorCode: e.fault.vendorErrorCode };
    return { status: e.status.stored, errorCode: "NoError" };
  }

  /** StatusNotification for a connector when it differs from the last one sent (or `force`), once
   *  it has been stable for MinimumStatusDuration (status-stability.ts). */
  sendStatus(connector: number, force = false): void {
    if (!this.online()) return;
    const s = this.effectiveStatus(connector);
    const key = `${s.status}|${s.errorCode}|${s.vendorErrorCode ?? ""}`;
    if (!force && this.sent.get(connector) === key) {
      this.stability.cancel(connector);
      return;
    }
    const since = this.stability.ready(connector, key, force);
    if (since === null) return;
    this.sent.set(connector, key);
    const req = {
      connectorId: connector,
      status: s.status,
      errorCode: s.errorCode,
      ...(s.info ? { info: clip50(s.info) } : {}),
      ...(s.vendorErrorCode ? { vendorErrorCode: clip50(s.vendorErrorCode) } : {}),
      timestamp: new Date(since).toISOString(),
    };
    void this.connection.call("StatusNotification", req).catch((err) => {
      this.sent.delete(connector);
      this.deps.log(`ocpp: StatusNotification ${connector} failed: ${(err as Error).message}`);
    });
  }

  private pollFaults(): void {
    for (const e of this.evses) {
      const errors = e.kernel.errors();
      const inoperative = errors.find((x) => x.type === "evse_manager/Inoperative");
      let fault: OcppEvse["fault"] = null;
      if (inoperative) {
        // The derived Inoperative names its first blocking cause in `message`; set_faulted is its own cause.
        const cause = errors.find((x) => x.type !== "evse_manager/Inoperative" && x.type === inoperative.message) ?? errors.find((x) => x.type !== "evse_manager/Inoperative") ?? inoperative;
        fault = { code: ocppErrorCode(cause.type), vendorErrorCode: cause.type, info: cause.message || cause.sub_type || cause.type };
      }
      const before = e.fault ? `${e.fault.code}|${e.fault.vendorErrorCode}` : "";
      const after = fault ? `${fault.code}|${fault.vendorErrorCode}` : "";
      e.fault = fault;
      if (before !== after) {
        // The kernel ends a reservation when the EVSE becomes faulted (behavior.md §12).
        if (fault) this.reservations.forgetEvse(e.index);
        this.sendStatus(e.index);
        this.sendStatus(0);
      }
    }
  }

  // ---- session events (§3, §4)

  publication(index: number, name: string, value: unknown): void {
    const e = this.evses[index - 1];
    if (!e) return;
    if (name === "powermeter") e.latest = value as Powermeter;
    else if (name === "limits") e.offeredA = (value as { max_current?: number }).max_current ?? null;
    else if (name === "session_event") this.sessionEvent(e, value as SessionEvent);
  }

  private sessionEvent(e: OcppEvse, ev: SessionEvent): void {
    e.view.observe(ev, this.deps.now());
    this.frontEnd?.sessionEvent(e.index, ev.event);
    if (ev.event === "ReservationEnd") this.reservations.forgetEvse(e.index);
    if (e.status.observe(ev)) this.sendStatus(e.index);
    // A RemoteStart profile waits for its transaction only while that authorization stands [D-O 6].
    if (ev.event === "Deauthorized" || ev.event === "SessionFinished") this.smartCharging?.dropRemoteStartProfile(e.index);
    if (ev.event === "TransactionStarted") this.transactionStarted(e, ev);
    else if (ev.event === "TransactionFinished") this.transactionFinished(e, ev);
  }

  private transactionStarted(e: OcppEvse, ev: SessionEvent): void {
    const t = ev.transaction_started!;
    const local = this.deps.store.transactions.open(ev.uuid, e.index);
    e.startSigned = t.signed_meter_value ? { value: t.signed_meter_value.signed_meter_data, timestamp: ev.timestamp } : null;
    e.stopSamples = [];
    const sampled = this.config.measurands("StopTxnSampledData");
    if (sampled.length > 0) e.stopSamples.push({ timestamp: ev.timestamp, sampledValue: sampledValues(t.meter_value, sampled, "Transaction.Begin", { currentOffered_A: e.offeredA }) });
    this.queue.enqueue(
      "StartTransaction",
      {
        connectorId: e.index,
        idTag: idTag20(t.id_tag.id_token.value),
        meterStart: meterStart(t.meter_value),
        timestamp: ev.timestamp,
        ...(t.reservation_id !== undefined && t.reservation_id >= 0 ? { reservationId: t.reservation_id } : {}),
      },
      local,
    );
    this.startSampling(e);
    // A RemoteStart profile held for this transaction applies now [D-O 6].
    this.smartCharging?.transactionStarted(e.index);
  }

  private transactionFinished(e: OcppEvse, ev: SessionEvent): void {
    if (e.sampleTimer) clearInterval(e.sampleTimer);
    e.sampleTimer = null;
    const t = ev.transaction_finished!;
    const row = this.deps.store.transactions.byUuid(ev.uuid);
    if (!row) {
      this.deps.log(`ocpp: TransactionFinished for session ${ev.uuid} that OCPP never started; no StopTransaction`);
      return;
    }
    const data: MeterValue[] = [...e.stopSamples];
    const sampled = this.config.measurands("StopTxnSampledData");
    if (sampled.length > 0) data.push({ timestamp: ev.timestamp, sampledValue: sampledValues(t.meter_value, sampled, "Transaction.End") });
    // Both signed readings, Begin included [D-O 5].
    const begin = t.start_signed_meter_value?.signed_meter_data ?? e.startSigned?.value;
    if (begin) {
      const at = t.start_signed_meter_value?.timestamp ?? e.startSigned?.timestamp ?? ev.timestamp;
      data.push({ timestamp: at, sampledValue: [{ value: begin, format: "SignedData", context: "Transaction.Begin" }] });
    }
    if (t.signed_meter_value) {
      data.push({ timestamp: t.signed_meter_value.timestamp ?? ev.timestamp, sampledValue: [{ value: t.signed_meter_value.signed_meter_data, format: "SignedData", context: "Transaction.End" }] });
    }
    const payload = {
      meterStop: meterStart(t.meter_value),
      timestamp: ev.timestamp,
      reason: ocppReason(t.reason),
      ...(t.id_tag ? { idTag: idTag20(t.id_tag.id_token.value) } : {}),
      ...(data.length > 0 ? { transactionData: data } : {}),
    };
    e.stopSamples = [];
    e.startSigned = null;
    this.queue.enqueue("StopTransaction", payload, row.local);
    this.smartCharging?.transactionEnded(e.index);
  }

  private startSampling(e: OcppEvse): void {
    if (e.sampleTimer) clearInterval(e.sampleTimer);
    e.sampleTimer = null;
    const s = this.config.int("MeterValueSampleInterval");
    if (s <= 0) return;
    e.sampleTimer = setInterval(() => this.sample(e, "Sample.Periodic"), s * 1000);
  }

  /** One MeterValues.req for a connector (periodic, clock-aligned or triggered). */
  sample(e: OcppEvse, context: ReadingContext, measurandsKey = "MeterValuesSampledData"): void {
    const reading = e.latest;
    if (!reading) return;
    const sampledValue = sampledValues(reading, this.config.measurands(measurandsKey), context, { currentOffered_A: e.offeredA });
    if (sampledValue.length === 0) return;
    const meterValue = [{ timestamp: new Date(this.deps.now()).toISOString(), sampledValue }];
    const tx = e.view.transaction ? this.deps.store.transactions.byUuid(e.view.transaction.uuid) : null;
    if (tx && context !== "Trigger") {
      this.queue.enqueue("MeterValues", { connectorId: e.index, meterValue }, tx.local);
      const stopKey = context === "Sample.Clock" ? "StopTxnAlignedData" : "StopTxnSampledData";
      const stopMeasurands = this.config.measurands(stopKey);
      if (stopMeasurands.length > 0 && e.stopSamples.length < 500) {
        e.stopSamples.push({ timestamp: meterValue[0]!.timestamp, sampledValue: sampledValues(reading, stopMeasurands, context, { currentOffered_A: e.offeredA }) });
      }
      return;
    }
    // Outside a transaction (or triggered) a reading is not a transaction message: sent only when online.
    if (!this.online()) return;
    const payload: Record<string, unknown> = { connectorId: e.index, meterValue };
    const csms = tx ? this.deps.store.transactions.byLocal(tx.local)?.csms_id : null;
    if (csms != null) payload.transactionId = csms;
    void this.connection.call("MeterValues", payload).catch(() => {});
  }

  private scheduleAligned(): void {
    if (this.alignedTimer) clearTimeout(this.alignedTimer);
    this.alignedTimer = null;
    const s = this.config.int("ClockAlignedDataInterval");
    if (s <= 0) return;
    const now = this.deps.now();
    const period = s * 1000;
    const next = Math.floor(now / period) * period + period; // aligned to midnight UTC: the epoch is
    this.alignedTimer = setTimeout(() => {
      for (const e of this.evses) this.sample(e, "Sample.Clock", "MeterValuesAlignedData");
      this.scheduleAligned();
    }, next - now);
  }

  // ---- queue results (§4)

  private onQueued(msg: QueuedMessage, payload: any, result: any): void {
    const store = this.deps.store;
    if (msg.action === "StartTransaction" && msg.tx !== null) {
      if (!result) return;
      store.transactions.setCsmsId(msg.tx, result.transactionId);
      this.updateCache(payload.idTag, result.idTagInfo);
      const row = store.transactions.byLocal(msg.tx);
      const e = row ? this.evses[row.evse - 1] : undefined;
      if (e && result.idTagInfo?.status !== "Accepted" && e.view.transaction?.uuid === row!.uuid) {
        this.deps.log(`ocpp: StartTransaction idTagInfo ${result.idTagInfo?.status}: pausing EVSE ${e.index}`);
        void (async () => {
          await e.kernel.command("pause_charging", {}).catch(() => {});
          if (this.config.bool("StopTransactionOnInvalidId")) await e.kernel.command("stop_transaction", { request: { reason: "DeAuthorized" } }).catch(() => {});
        })();
      }
      // The RemoteStart profile running with this transaction is bound to its id [D-O 6]; a TxProfile
      // naming this transactionId may apply from now on.
      if (e && e.view.transaction?.uuid === row!.uuid) this.smartCharging?.transactionIdKnown(e.index, result.transactionId);
      else if (e) this.smartCharging?.apply(e.index);
    } else if (msg.action === "StopTransaction") {
      if (result) this.updateCache(payload.idTag, result.idTagInfo);
      const row = msg.tx !== null ? store.transactions.byLocal(msg.tx) : null;
      if (row) void this.applyScheduledAvailability(row.evse);
      store.transactions.prune(this.evses.flatMap((e) => (e.view.transaction ? [store.transactions.byUuid(e.view.transaction.uuid)?.local ?? -1] : [])));
    }
  }

  // ---- availability (§5.4)

  private storeAvailability(connector: number, type: "Operative" | "Inoperative"): void {
    const stored = { ...((this.deps.store.kv.get("ocpp.availability") as Record<string, string> | null) ?? {}) };
    stored[String(connector)] = type;
    this.deps.store.kv.set("ocpp.availability", stored);
  }

  /** Applies a ChangeAvailability now: enable_disable(0, CSMS, 5000) on the EVSEs concerned. */
  async setAvailability(connector: number, type: "Operative" | "Inoperative"): Promise<void> {
    this.storeAvailability(connector, type);
    const targets = connector === 0 ? this.evses : [this.evses[connector - 1]!];
    for (const e of targets) {
      const inoperative = this.availability(0) === "Inoperative" || this.availability(e.index) === "Inoperative";
      await e.kernel
        .command("enable_disable", { connector_id: 0, cmd_source: { enable_source: "CSMS", enable_state: inoperative ? "Disable" : "Enable", enable_priority: 5000 } })
        .catch((err) => this.deps.log(`ocpp: enable_disable on EVSE ${e.index}: ${(err as Error).message}`));
    }
    this.sendStatus(0);
  }

  private async applyScheduledAvailability(evse: number): Promise<void> {
    for (const [connector, type] of [...this.scheduledAvailability]) {
      if (connector !== evse && connector !== 0) continue;
      if (connector === 0 && this.evses.some((e) => e.view.transaction)) continue;
      this.scheduledAvailability.delete(connector);
      await this.setAvailability(connector, type);
    }
  }

  /** After a restart the persisted availability is applied once the kernels have started. */
  private async applyStoredAvailability(): Promise<void> {
    const stored = this.deps.store.kv.get("ocpp.availability") as Record<string, string> | null;
    if (!stored || !Object.values(stored).includes("Inoperative")) return;
    for (let i = 0; i < 300 && !this.evses.every((e) => e.kernel.started()); i++) await Bun.sleep(100);
    for (const e of this.evses) {
      if (this.availability(0) === "Inoperative" || this.availability(e.index) === "Inoperative") await this.setAvailability(e.index, this.availability(e.index));
    }
  }

  // ---- smart charging (§5.7)

  csmsTransactionId(evse: number): number | null {
    const e = this.evses[evse - 1];
    if (!e?.view.transaction) return null;
    const row = this.deps.store.transactions.byUuid(e.view.transaction.uuid);
    return row?.csms_id ?? null;
  }

  // ---- visibility (§9)

  snapshot(): { configured: true; connected: boolean; registration: Registration | null; queued_transaction_messages: number; last_error: string | null } {
    return { configured: true, connected: this.connection.connected, registration: this.registration, queued_transaction_messages: this.queue.length, last_error: this.lastError };
  }
}
