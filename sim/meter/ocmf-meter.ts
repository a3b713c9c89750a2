// The simulated board's calibration-law meter (behavior.md §5, interface.md §3b powermeter): it
// signs the transaction's begin and end readings as OCMF records (standards.md §2), one record
// each (OCPP "SR" format), with ECDSA-secp256r1-SHA256 through @road-labs/ocmf's Signer.
//
// Semantics chosen where the interface leaves room:
// * start_transaction signs the begin record (TX "B") at once, from the latest reading, and
//   answers OK; with no reading yet or a bad request it answers UNEXPECTED_ERROR (the kernel
//   decides what that means, behavior.md §5.2).
// * stop_transaction(id) signs the end record (TX "E") and answers OK with both records;
//   an id with no running transaction (e.g. one from before a restart: this meter keeps nothing)
//   answers UNEXPECTED_ERROR.
// * stop_transaction("") cancels every running transaction and answers OK without signed values:
//   a cancel is not a billing end, so nothing is signed.
// * Pagination `PG` is one "T" counter for the meter, up by one per signed record.
// * The signed reading is the meter's import register, which never goes back, as a real meter's
//   does not: the board's `powermeter` restarts at 0 at every plug-in (simulation.md §2.7), so the
//   register adds up those readings, and it continues from `register` after a restart (the caller
//   persists registerState()).
import type { PayloadData, SignatureMethodId } from "@road-labs/ocmf";
import * as v from "valibot";
import type { Clock, MeterPort } from "../../core/ports.ts";
import {
  type Powermeter,
  type SignedMeterValue,
  type TransactionReq,
  TransactionReqSchema,
  type TransactionStartResponse,
  type TransactionStopResponse,
} from "../../core/types/index.ts";
import { generateEcPrivateKey, WebCryptoAdapter, type WebEcPrivateKey } from "./web-crypto-adapter.ts";
import { encodeOcmfPublicKey } from "./ocmf-public-key.ts";

export const OCMF_SIGNING_METHOD: SignatureMethodId = "ECDSA-secp256r1-SHA256";
export const OCMF_ENCODING_METHOD = "OCMF";
export const SIM_METER_DEFAULT_ID = "SIM-OCMF-0001";
/** OBIS code of the active energy import register (A+ total). */
export const OCMF_IMPORT_OBIS = "01-00:01.08.00*FF";

export interface SimOcmfMeterOptions {
  /** Meter serial, OCMF `MS`. */
  meterId?: string;
  /** The board's latest meter reading (var `powermeter`), or null before the first one. */
  getLatest: () => Powermeter | null;
  /** PKCS#8 PEM ("BEGIN PRIVATE KEY") of an EC P-256 private key; a fresh key pair is generated
   *  without it. */
  privateKeyPem?: string;
  /** Time of a reading that carries no usable timestamp; real time by default. */
  clock?: Clock;
  /** Where the previous process left the register: `wh` when the board read `boardWh`. */
  register?: RegisterState;
}

/** The import register in whole Wh, and the board reading (Wh since its last reset) it stood at. */
export interface RegisterState {
  wh: number;
  boardWh: number;
}

interface OpenTransaction {
  req: TransactionReq;
  start: Promise<SignedMeterValue>;
}

type Reading = { at: Date; kWh: number };

const adapter = new WebCryptoAdapter();

/** @road-labs/ocmf (with the date library it formats times with) when the first record is signed:
 *  a chunk of its own in the split build, not read by a start. */
const ocmfLibrary = () => import("@road-labs/ocmf");

async function loadPrivateKey(pem: string | undefined): Promise<WebEcPrivateKey> {
  if (pem === undefined) return generateEcPrivateKey("secp256r1");
  const body = /^-----BEGIN PRIVATE KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END PRIVATE KEY-----$/.exec(pem.trim());
  let key: WebEcPrivateKey;
  try {
    if (body === null) throw new Error('not a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----")');
    key = await adapter.decodeEcPrivateKey(new Uint8Array(Buffer.from(body[1]!.replace(/\s+/g, ""), "base64")), "pkcs8-der");
  } catch (e) {
    throw new Error(`privateKeyPem: not a usable EC private key (${(e as Error).message})`);
  }
  if (key.getCurve() !== "secp256r1") {
    throw new Error(`privateKeyPem: must be a P-256 (secp256r1) key for ${OCMF_SIGNING_METHOD}, got ${key.getCurve()}`);
  }
  return key;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SimOcmfMeter implements MeterPort {
  readonly meterId: string;
  readonly #getLatest: () => Powermeter | null;
  readonly #clock: Clock;
  readonly #key: WebEcPrivateKey;
  readonly #publicKey: string;
  readonly #open = new Map<string, OpenTransaction>();
  #page = 0;
  /** Register = #base + the board's reading; a reading below the last one is a board reset. */
  #base = 0;
  #lastBoardWh = 0;

  /** A meter signing with `privateKeyPem`, or with a key pair generated now. Asynchronous
   *  because Web Crypto is (web-crypto-adapter.ts). Throws an Error naming the bad option. */
  static async create(opts: SimOcmfMeterOptions): Promise<SimOcmfMeter> {
    return new SimOcmfMeter(opts, await loadPrivateKey(opts.privateKeyPem));
  }

  private constructor(opts: SimOcmfMeterOptions, key: WebEcPrivateKey) {
    this.meterId = opts.meterId ?? SIM_METER_DEFAULT_ID;
    if (this.meterId === "" || this.meterId.includes("|")) throw new Error('meterId: must be non-empty and without "|"');
    this.#getLatest = opts.getLatest;
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#key = key;
    this.#publicKey = encodeOcmfPublicKey(this.#key.getPublicKey());
    const r = opts.register;
    if (r !== undefined) {
      if (!(Number.isFinite(r.wh) && Number.isFinite(r.boardWh) && r.boardWh >= 0 && r.wh >= r.boardWh)) {
        throw new Error(`register: wh must be ≥ boardWh ≥ 0, got ${JSON.stringify(r)}`);
      }
      this.#base = Math.round(r.wh) - Math.round(r.boardWh);
      this.#lastBoardWh = Math.round(r.boardWh);
    }
  }

  /** Call with every board reading: the register counts across the board's resets. */
  observe(reading: Powermeter): void {
    const wh = Math.round(reading.energy_Wh_import.total);
    if (!Number.isFinite(wh) || wh < 0) return;
    if (wh < this.#lastBoardWh) this.#base += this.#lastBoardWh;
    this.#lastBoardWh = wh;
  }

  /** What to persist for the next process (the `register` option). */
  registerState(): RegisterState {
    return { wh: this.#base + this.#lastBoardWh, boardWh: this.#lastBoardWh };
  }

  /** The value of `powermeter_public_key_ocmf`: hex DER SubjectPublicKeyInfo (ocmf-public-key.ts). */
  publicKey(): string {
    return this.#publicKey;
  }

  /** Transactions started and not yet stopped (for status pages and tests). */
  openTransactions(): string[] {
    return [...this.#open.keys()];
  }

  async start_transaction(value: TransactionReq): Promise<TransactionStartResponse> {
    const parsed = v.safeParse(TransactionReqSchema, value);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      return { status: "UNEXPECTED_ERROR", error: `${v.getDotPath(issue) ?? "value"}: ${issue.message}` };
    }
    const req = parsed.output;
    // "|" separates the OCMF sections and may not appear inside one (standards.md §2.1).
    for (const field of ["evse_id", "identification_data", "tariff_text"] as const) {
      if (req[field]?.includes("|")) return { status: "UNEXPECTED_ERROR", error: `${field}: must not contain "|"` };
    }
    if (this.#open.has(req.transaction_id)) {
      return { status: "UNEXPECTED_ERROR", error: `transaction ${req.transaction_id} is already running` };
    }
    const reading = this.#reading();
    if (reading === null) return { status: "UNEXPECTED_ERROR", error: "no meter reading available yet" };

    // Registered before the signature is awaited so a stop that races the start still finds it.
    const start = this.#sign(req, "B", reading);
    this.#open.set(req.transaction_id, { req, start });
    try {
      await start;
    } catch (e) {
      this.#open.delete(req.transaction_id);
      return { status: "UNEXPECTED_ERROR", error: `signing the begin record failed: ${errorText(e)}` };
    }
    return { status: "OK" };
  }

  async stop_transaction(transaction_id: string): Promise<TransactionStopResponse> {
    if (typeof transaction_id !== "string") {
      return { status: "UNEXPECTED_ERROR", error: "transaction_id: must be a string" };
    }
    if (transaction_id === "") {
      this.#open.clear();
      return { status: "OK" };
    }
    const open = this.#open.get(transaction_id);
    if (open === undefined) {
      return { status: "UNEXPECTED_ERROR", error: `no running transaction ${transaction_id}` };
    }
    const reading = this.#reading();
    if (reading === null) return { status: "UNEXPECTED_ERROR", error: "no meter reading available" };
    this.#open.delete(transaction_id);
    try {
      const end = this.#sign(open.req, "E", reading);
      return { status: "OK", start_signed_meter_value: await open.start, signed_meter_value: await end };
    } catch (e) {
      return { status: "UNEXPECTED_ERROR", error: `signing failed: ${errorText(e)}` };
    }
  }

  #reading(): Reading | null {
    const latest = this.#getLatest();
    if (latest === null) return null;
    const parsed = Date.parse(latest.timestamp);
    const at = new Date(Number.isNaN(parsed) ? this.#clock.now() : parsed);
    this.observe(latest); // a caller that never observes still gets the register of what it read
    // Whole Wh as kWh: at most three decimals, which JSON writes exactly as it is signed.
    return { at, kWh: this.registerState().wh / 1000 };
  }

  /** Takes the next page at call time, so records are numbered in the order they were asked for. */
  async #sign(req: TransactionReq, tx: "B" | "E", reading: Reading): Promise<SignedMeterValue> {
    const page = ++this.#page; // before the first await
    const { formatDate, Signer } = await ocmfLibrary();
    const payload: PayloadData = {
      FV: "1.4",
      GI: "evse-manager simulated board",
      PG: `T${page}`,
      MV: "evse-manager",
      MM: "SimOcmfMeter",
      MS: this.meterId,
      IS: req.identification_status === "ASSIGNED",
      ...(req.identification_level !== undefined && { IL: req.identification_level }),
      IF: [...req.identification_flags],
      IT: req.identification_type,
      ...(req.identification_data !== undefined && { ID: req.identification_data }),
      ...(req.tariff_text !== undefined && { TT: req.tariff_text }),
      CT: "EVSEID",
      CI: req.evse_id,
      RD: [
        {
          // "U": the simulator cannot tell whether the host clock is synchronised.
          TM: formatDate(reading.at, "U"),
          TX: tx,
          RV: reading.kWh,
          RI: OCMF_IMPORT_OBIS,
          RU: "kWh",
          RT: "AC",
          ST: "G",
        },
      ],
    };
    return {
      signed_meter_data: await new Signer(adapter).sign(payload, this.#key, OCMF_SIGNING_METHOD),
      signing_method: OCMF_SIGNING_METHOD,
      encoding_method: OCMF_ENCODING_METHOD,
      public_key: this.#publicKey,
      timestamp: reading.at.toISOString(),
    };
  }
}
