import { describe, expect, test } from "bun:test";
import { generateKeyPairSync, sign, verify } from "node:crypto";
import { decomposeValue, parseDate, Verifier } from "@road-labs/ocmf";
import * as v from "valibot";
import {
  type Powermeter,
  type TransactionReq,
  TransactionStartResponseSchema,
  TransactionStopResponseSchema,
} from "../core/types/index.ts";
import {
  decodeOcmfPublicKey,
  WebCryptoAdapter,
  OCMF_IMPORT_OBIS,
  SimOcmfMeter,
  verifyOcmfRecord,
} from "../sim/meter/index.ts";

function reading(total: number, timestamp = "2025-03-01T10:00:00.000Z"): Powermeter {
  return { timestamp, energy_Wh_import: { total } };
}

function req(overrides: Partial<TransactionReq> = {}): TransactionReq {
  return {
    evse_id: "DE*PNX*E12345*1",
    transaction_id: "tx-1",
    identification_status: "ASSIGNED",
    identification_type: "ISO14443",
    identification_flags: [],
    identification_data: "DEADBEEF",
    ...overrides,
  };
}

/** A meter whose reading the test sets, like the board's latest `powermeter` publication. */
async function meterWith(initial: Powermeter | null, opts: { meterId?: string; privateKeyPem?: string } = {}) {
  let latest = initial;
  const meter = await SimOcmfMeter.create({ ...opts, getLatest: () => latest });
  return { meter, set: (p: Powermeter | null) => (latest = p) };
}

async function startStop(
  total0: number,
  total1: number,
  request = req(),
): Promise<{ meter: SimOcmfMeter; start: string; end: string }> {
  const { meter, set } = await meterWith(reading(total0));
  expect(await meter.start_transaction(request)).toEqual({ status: "OK" });
  set(reading(total1, "2025-03-01T11:30:15.250Z"));
  const res = await meter.stop_transaction(request.transaction_id);
  expect(res.status).toBe("OK");
  if (res.start_signed_meter_value === undefined || res.signed_meter_value === undefined) {
    throw new Error("signed values missing");
  }
  return { meter, start: res.start_signed_meter_value.signed_meter_data, end: res.signed_meter_value.signed_meter_data };
}

describe("simulated OCMF meter", () => {
  test("the public key is upper-case hex DER SubjectPublicKeyInfo of a P-256 key", async () => {
    const { meter } = await meterWith(null);
    const key = meter.publicKey();
    expect(key).toMatch(/^3059301306072A8648CE3D0201[0-9A-F]+$/);
    expect(key).toHaveLength(182);
    expect((await decodeOcmfPublicKey(key)).getCurve()).toBe("secp256r1");
  });

  test("start and stop yield begin and end OCMF records that verify with the library and the published key", async () => {
    const { meter, start, end } = await startStop(1234, 5678);
    const verifier = new Verifier(new WebCryptoAdapter());
    const key = await decodeOcmfPublicKey(meter.publicKey());
    for (const record of [start, end]) {
      expect(record.startsWith("OCMF|{")).toBe(true);
      expect(record.split("|")).toHaveLength(3);
      const result = await verifier.parseAndVerify(record, key);
      expect(result.verified).toBe(true);
      expect(result.value?.signature.SA).toBe("ECDSA-secp256r1-SHA256");
    }
  });

  test("the stop answer carries SignedMeterValue objects of the closed schema with method, encoding and key", async () => {
    const { meter, set } = await meterWith(reading(10));
    const started = await meter.start_transaction(req());
    expect(v.safeParse(TransactionStartResponseSchema, started).success).toBe(true);
    set(reading(20));
    const res = await meter.stop_transaction("tx-1");
    expect(v.parse(TransactionStopResponseSchema, res)).toEqual(res);
    for (const value of [res.start_signed_meter_value, res.signed_meter_value]) {
      expect(value).toMatchObject({
        signing_method: "ECDSA-secp256r1-SHA256",
        encoding_method: "OCMF",
        public_key: meter.publicKey(),
      });
    }
  });

  test("the readings, reasons, meter serial and identification inside the payloads match the transaction", async () => {
    const request = req({ identification_level: "HEARSAY", identification_flags: ["RFID_PLAIN"], tariff_text: "0.39 EUR/kWh" });
    const { meter, start, end } = await startStop(1234, 5678, request);
    const begin = (await verifyOcmfRecord(start, meter.publicKey())).value?.payloadData;
    const finish = (await verifyOcmfRecord(end, meter.publicKey())).value?.payloadData;
    expect(begin).toMatchObject({
      MS: "SIM-OCMF-0001",
      IS: true,
      IL: "HEARSAY",
      IF: ["RFID_PLAIN"],
      IT: "ISO14443",
      ID: "DEADBEEF",
      TT: "0.39 EUR/kWh",
      CT: "EVSEID",
      CI: "DE*PNX*E12345*1",
      RD: [{ TX: "B", RV: 1.234, RU: "kWh", RI: OCMF_IMPORT_OBIS, RT: "AC", ST: "G" }],
    });
    expect(finish).toMatchObject({ MS: "SIM-OCMF-0001", ID: "DEADBEEF", RD: [{ TX: "E", RV: 5.678, RU: "kWh" }] });
    // pagination in the transaction context counts up by exactly one per record
    expect(begin?.PG).toBe("T1");
    expect(finish?.PG).toBe("T2");
    // the reading time is the meter reading's timestamp
    const tm = finish?.RD[0]?.TM ?? "";
    expect(tm.endsWith(" U")).toBe(true);
    expect(parseDate(tm)[0].getTime()).toBe(Date.parse("2025-03-01T11:30:15.250Z"));
  });

  test("the kWh value is written exactly as signed (whole Wh, at most three decimals)", async () => {
    const { start, end } = await startStop(0, 10500.4);
    expect(decomposeValue(start).payloadData).toContain('"RV":0,');
    expect(decomposeValue(end).payloadData).toContain('"RV":10.5,');
  });

  test("an unassigned user still gets the user-assignment fields", async () => {
    const request = req({ identification_status: "NOT_ASSIGNED", identification_type: "NONE", identification_data: undefined });
    const { meter, start } = await startStop(1, 2, request);
    const payload = (await verifyOcmfRecord(start, meter.publicKey())).value?.payloadData;
    expect(payload).toMatchObject({ IS: false, IT: "NONE", IF: [] });
    expect(payload && "ID" in payload).toBe(false);
  });

  test("tampering with the payload, the signature or the key fails verification", async () => {
    const { meter, start, end } = await startStop(1234, 5678);
    const key = meter.publicKey();
    expect((await verifyOcmfRecord(end.replace('"RV":5.678', '"RV":5.679'), key)).verified).toBe(false);
    expect((await verifyOcmfRecord(end.replace('"RV":5.678', '"RV":5.6780'), key)).verified).toBe(false);
    expect((await verifyOcmfRecord(end.replace("{", "{ "), key)).verified).toBe(false);
    const [h, p, s] = end.split("|") as [string, string, string];
    const sd = JSON.parse(s).SD as string;
    const flipped = sd.slice(0, -2) + (sd.endsWith("00") ? "01" : "00");
    expect((await verifyOcmfRecord(`${h}|${p}|${s.replace(sd, flipped)}`, key)).verified).toBe(false);
    // the begin record's signature does not cover the end record's payload
    expect((await verifyOcmfRecord(`${h}|${p}|${start.split("|")[2]}`, key)).verified).toBe(false);
    const other = (await meterWith(null)).meter.publicKey();
    expect((await verifyOcmfRecord(end, other)).verified).toBe(false);
    expect((await verifyOcmfRecord("not an ocmf record", key)).verified).toBe(false);
  });

  test("a given private key signs, and its public key is the one published", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const expected = (publicKey.export({ type: "spki", format: "der" }) as Buffer).toString("hex").toUpperCase();
    const { meter, set } = await meterWith(reading(5), { privateKeyPem: pem, meterId: "METER-42" });
    expect(meter.publicKey()).toBe(expected);
    await meter.start_transaction(req());
    set(reading(6));
    const res = await meter.stop_transaction("tx-1");
    const result = await verifyOcmfRecord(res.signed_meter_value?.signed_meter_data ?? "", expected);
    expect(result.verified).toBe(true);
    expect(result.value?.payloadData.MS).toBe("METER-42");
  });

  test("a private key that is not PKCS#8 PEM or not P-256 is refused naming privateKeyPem", async () => {
    await expect(SimOcmfMeter.create({ getLatest: () => null, privateKeyPem: "garbage" })).rejects.toThrow(/privateKeyPem/);
    const sec1 = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "sec1", format: "pem" });
    await expect(SimOcmfMeter.create({ getLatest: () => null, privateKeyPem: sec1.toString() })).rejects.toThrow(/privateKeyPem: .*PKCS#8/);
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).privateKey.export({ type: "pkcs8", format: "pem" });
    await expect(SimOcmfMeter.create({ getLatest: () => null, privateKeyPem: p384.toString() })).rejects.toThrow(/P-256/);
  });

  test("stopping an unknown transaction answers UNEXPECTED_ERROR naming it", async () => {
    const { meter } = await meterWith(reading(1));
    const res = await meter.stop_transaction("nope");
    expect(res.status).toBe("UNEXPECTED_ERROR");
    expect(res.error).toContain("nope");
    expect(res.signed_meter_value).toBeUndefined();
  });

  test("a transaction can be stopped only once", async () => {
    const { meter } = await meterWith(reading(1));
    await meter.start_transaction(req());
    expect((await meter.stop_transaction("tx-1")).status).toBe("OK");
    expect((await meter.stop_transaction("tx-1")).status).toBe("UNEXPECTED_ERROR");
  });

  test("stop_transaction('') cancels every running transaction and answers OK without signed values", async () => {
    const { meter } = await meterWith(reading(1));
    await meter.start_transaction(req({ transaction_id: "a" }));
    await meter.start_transaction(req({ transaction_id: "b" }));
    expect(meter.openTransactions()).toEqual(["a", "b"]);
    expect(await meter.stop_transaction("")).toEqual({ status: "OK" });
    expect(meter.openTransactions()).toEqual([]);
    expect((await meter.stop_transaction("a")).status).toBe("UNEXPECTED_ERROR");
  });

  test("starting before any meter reading answers UNEXPECTED_ERROR and opens nothing", async () => {
    const { meter } = await meterWith(null);
    const res = await meter.start_transaction(req());
    expect(res.status).toBe("UNEXPECTED_ERROR");
    expect(res.error).toContain("reading");
    expect(meter.openTransactions()).toEqual([]);
  });

  test("starting a transaction id that is already running answers UNEXPECTED_ERROR", async () => {
    const { meter } = await meterWith(reading(1));
    await meter.start_transaction(req());
    const res = await meter.start_transaction(req());
    expect(res.status).toBe("UNEXPECTED_ERROR");
    expect(res.error).toContain("tx-1");
  });

  test("a malformed request answers UNEXPECTED_ERROR naming the field", async () => {
    const { meter } = await meterWith(reading(1));
    const bad = { ...req(), identification_type: "RFID" } as unknown as TransactionReq;
    const res = await meter.start_transaction(bad);
    expect(res.status).toBe("UNEXPECTED_ERROR");
    expect(res.error).toContain("identification_type");
  });

  test("a '|' inside a field that goes into the record is refused, since it would break the framing", async () => {
    const { meter } = await meterWith(reading(1));
    const res = await meter.start_transaction(req({ identification_data: "AB|CD" }));
    expect(res.status).toBe("UNEXPECTED_ERROR");
    expect(res.error).toContain("identification_data");
    expect(meter.openTransactions()).toEqual([]);
    await expect(SimOcmfMeter.create({ getLatest: () => null, meterId: "A|B" })).rejects.toThrow(/meterId/);
  });

  test("a stop that races the start's signing still returns both records", async () => {
    const { meter } = await meterWith(reading(100));
    const started = meter.start_transaction(req());
    const stopped = meter.stop_transaction("tx-1");
    expect((await started).status).toBe("OK");
    const res = await stopped;
    expect(res.status).toBe("OK");
    expect((await verifyOcmfRecord(res.start_signed_meter_value?.signed_meter_data ?? "", meter.publicKey())).verified).toBe(true);
  });

  test("concurrent transactions are paged in the order their records were asked for", async () => {
    const { meter } = await meterWith(reading(1));
    await meter.start_transaction(req({ transaction_id: "a" }));
    await meter.start_transaction(req({ transaction_id: "b" }));
    const b = await meter.stop_transaction("b");
    const a = await meter.stop_transaction("a");
    const page = async (s: string | undefined) =>
      (await verifyOcmfRecord(s ?? "", meter.publicKey())).value?.payloadData.PG;
    expect(await page(a.start_signed_meter_value?.signed_meter_data)).toBe("T1");
    expect(await page(b.start_signed_meter_value?.signed_meter_data)).toBe("T2");
    expect(await page(b.signed_meter_value?.signed_meter_data)).toBe("T3");
    expect(await page(a.signed_meter_value?.signed_meter_data)).toBe("T4");
  });
});

describe("Web Crypto ECDSA in OCMF's DER form (sim/meter/der.ts)", () => {
  // node:crypto is an independent implementation of the same DER: every signature the meter's
  // adapter makes must verify there, whatever the leading bits and zero bytes of r and s (some
  // hundred signatures meet both), and what it signs in DER must verify in the adapter.
  test("the adapter's signatures verify with node:crypto, and node:crypto's with the adapter", async () => {
    const adapter = new WebCryptoAdapter();
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pkcs8 = new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" }));
    const key = await adapter.decodeEcPrivateKey(pkcs8, "pkcs8-der");
    const spki = new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
    expect(key.getPublicKey().encode("spki-der")).toEqual(spki);
    const pub = await adapter.decodeEcPublicKey(spki, "spki-der");
    const lengths = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const data = new TextEncoder().encode(`record ${i}`);
      const der = await adapter.sign(data, key, "SHA-256", "sigvalue-der");
      lengths.add(der.length);
      expect(verify("sha256", data, { key: publicKey, dsaEncoding: "der" }, der)).toBe(true);
      expect(await adapter.verify(der, data, pub, "SHA-256", "sigvalue-der")).toBe(true);
      const theirs = new Uint8Array(sign("sha256", data, { key: privateKey, dsaEncoding: "der" }));
      expect(await adapter.verify(theirs, data, pub, "SHA-256", "sigvalue-der")).toBe(true);
    }
    // 70 and 72 bytes: r or s with and without the zero byte a leading 1 bit needs.
    expect([...lengths].sort()).toEqual(expect.arrayContaining([70, 71, 72]));
  });

  test("a malformed or foreign signature and a key on another curve are refused, not thrown", async () => {
    const adapter = new WebCryptoAdapter();
    const p256 = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pub = await adapter.decodeEcPublicKey(new Uint8Array(p256.publicKey.export({ type: "spki", format: "der" })), "spki-der");
    const data = new TextEncoder().encode("x");
    for (const bad of [[], [0x30], [0x30, 0x02, 0x02, 0x00], [0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01], [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]]) {
      expect(await adapter.verify(new Uint8Array(bad), data, pub, "SHA-256", "sigvalue-der")).toBe(false);
    }
    const ed = new Uint8Array(generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" }));
    await expect(adapter.decodeEcPublicKey(ed, "spki-der")).rejects.toThrow(/not an EC key/);
    const p384 = new Uint8Array(generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "der" }));
    expect((await adapter.decodeEcPublicKey(p384, "spki-der")).getCurve()).toBe("secp384r1");
  });
});
