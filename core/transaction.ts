// The transaction lifecycle of one EVSE around the billing meter and the persistent record
// (behavior.md §5.3, §5.4, §16.1, §16.3 [D7]): the meter's start_transaction and the open record
// at the start, the record's refresh while it runs, the meter's stop_transaction and its signed
// values at the stop, and the PowerLoss finish of a record left by the previous run. The charger
// decides when (its states and events); this owns what happens to the meter and the store.
import type { EvseConfig } from "./config/index.ts";
import type { Clock, MeterPort, TransactionRecord, TransactionStore } from "./ports.ts";
import * as ev from "./session-events.ts";
import * as v from "valibot";
import {
  PowermeterSchema,
  ProvidedIdTokenSchema,
  type IdTokenType,
  type OCMFIdentificationType,
  type Powermeter,
  type ProvidedIdToken,
  type SessionEvent,
  type TransactionReq,
  type TransactionStopResponse,
} from "./types/index.ts";

export interface TransactionEnv {
  clock: Clock;
  config: EvseConfig;
  meter: MeterPort | null;
  store: TransactionStore;
  log(line: string): void;
  latestMeter(): Powermeter | null;
}

/** What an OK stop_transaction answer adds to TransactionFinished. */
export interface SignedValues {
  start_signed_meter_value?: unknown;
  signed_meter_value?: unknown;
}

const IDENTIFICATION_TYPE: Record<IdTokenType, OCMFIdentificationType> = {
  Central: "CENTRAL",
  eMAID: "EMAID",
  ISO14443: "ISO14443",
  ISO15693: "ISO15693",
  KeyCode: "KEY_CODE",
  Local: "LOCAL",
  NoAuthorization: "NONE",
  MacAddress: "UNDEFINED",
};

/** The spec asks for a refresh at least every 10 s (§16.1). */
const RECORD_REFRESH_MS = 5000;

function signedValues(resp: TransactionStopResponse): SignedValues {
  const signed: SignedValues = {};
  if (resp.start_signed_meter_value !== undefined) signed.start_signed_meter_value = resp.start_signed_meter_value;
  if (resp.signed_meter_value !== undefined) signed.signed_meter_value = resp.signed_meter_value;
  return signed;
}

export class Transaction {
  private record: TransactionRecord | null = null;
  private recordWrittenAt = 0;

  constructor(private readonly env: TransactionEnv) {}

  private get now(): number {
    return this.env.clock.now();
  }

  /** §5.3 step 1: the meter's start_transaction. False when the start must fail
   *  (UNEXPECTED_ERROR with fail_on_powermeter_errors); the caller raises the error. */
  async startMeter(uuid: string, token: ProvidedIdToken): Promise<boolean> {
    const meter = this.env.meter;
    if (!meter) return true;
    const req: TransactionReq = {
      evse_id: this.env.config.evse_id,
      transaction_id: uuid,
      identification_status: "ASSIGNED",
      identification_type: IDENTIFICATION_TYPE[token.id_token.type],
      identification_flags: [],
      identification_data: token.id_token.value,
    };
    let status: string;
    try {
      status = (await meter.start_transaction(req)).status;
    } catch (err) {
      this.env.log(`powermeter start_transaction failed: ${(err as Error).message}`);
      status = "UNEXPECTED_ERROR";
    }
    return !(status === "UNEXPECTED_ERROR" && this.env.config.fail_on_powermeter_errors);
  }

  /** Imported energy at the start of the open transaction; undefined without one. */
  get startEnergyWh(): number | undefined {
    return this.record?.start_meter_value.energy_Wh_import.total;
  }

  /** §5.3 step 3: the open-transaction record, written before TransactionStarted. */
  open(uuid: string, token: ProvidedIdToken, meterValue: Powermeter): void {
    this.record = {
      uuid,
      id_tag: token,
      start_meter_value: meterValue,
      latest_meter_value: meterValue,
      started_at: ev.rfc3339(this.now),
    };
    this.write();
  }

  setReservationId(reservationId: number): void {
    if (!this.record) return;
    this.record.reservation_id = reservationId;
    this.write();
  }

  /** Latest meter value into the record (on every session event of the transaction, and at shutdown). */
  refresh(): void {
    if (!this.record) return;
    const latest = this.env.latestMeter();
    if (latest) this.record.latest_meter_value = latest;
    this.write();
  }

  /** Periodic refresh while the transaction runs. */
  refreshIfDue(): void {
    if (this.record && this.now - this.recordWrittenAt >= RECORD_REFRESH_MS) this.refresh();
  }

  /** §5.4 step 3: the meter's stop_transaction, then the record is gone. */
  async stop(uuid: string): Promise<SignedValues> {
    let signed: SignedValues = {};
    if (this.env.meter) {
      try {
        const resp = await this.env.meter.stop_transaction(uuid);
        if (resp.status === "OK") signed = signedValues(resp);
        else this.env.log(`powermeter stop_transaction: ${resp.status}${resp.error ? ` (${resp.error})` : ""}`);
      } catch (err) {
        this.env.log(`powermeter stop_transaction failed: ${(err as Error).message}`);
      }
    }
    this.record = null;
    this.env.store.clear();
    return signed;
  }

  /** §16.3 step 3 [D7]: the transaction of a stored record ends with PowerLoss, carrying its own
   *  uuid and token. Returns that uuid (candidate for SessionResumed), or null without a record. */
  async finishInterrupted(emit: (event: SessionEvent) => void): Promise<string | null> {
    let record: TransactionRecord | null = null;
    try {
      record = this.env.store.load();
    } catch (err) {
      this.env.log(`transaction record unreadable, ignored: ${(err as Error).message}`);
    }
    const meter = this.env.meter;
    if (record === null) {
      if (meter) await meter.stop_transaction("").catch((err) => this.logFailure("powermeter stop_transaction", err));
      return null;
    }
    let signed: SignedValues = {};
    if (meter) {
      try {
        const resp = await meter.stop_transaction(record.uuid);
        if (resp.status === "OK") signed = signedValues(resp);
      } catch (err) {
        this.logFailure("powermeter stop_transaction", err);
      }
      await meter.stop_transaction("").catch((err) => this.logFailure("powermeter stop_transaction", err));
    }
    const now = this.now;
    const idTag = v.safeParse(ProvidedIdTokenSchema, record.id_tag);
    const meterValue = v.safeParse(PowermeterSchema, record.latest_meter_value);
    emit(
      ev.transactionFinished(record.uuid, now, {
        reason: "PowerLoss",
        meter_value: meterValue.success ? meterValue.output : ev.meterValueOrZero(this.env.latestMeter(), now),
        ...(idTag.success ? { id_tag: idTag.output } : {}),
        ...signed,
      }),
    );
    try {
      this.env.store.clear();
    } catch (err) {
      this.logFailure("transaction record clear", err);
    }
    return record.uuid;
  }

  private write(): void {
    if (!this.record) return;
    try {
      this.env.store.save(this.record);
      this.recordWrittenAt = this.now;
    } catch (err) {
      this.env.log(`transaction record not written: ${(err as Error).message}`);
    }
  }

  /** The kernel's failure line (with the stack), as the boot path has always logged it. */
  private logFailure(what: string, err: unknown): void {
    this.env.log(`${what} failed: ${(err as Error)?.stack ?? String(err)}`);
  }
}
