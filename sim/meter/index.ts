// Public surface of the simulated calibration-law meter (OCMF signing, standards.md §2).
export {
  OCMF_ENCODING_METHOD,
  OCMF_IMPORT_OBIS,
  OCMF_SIGNING_METHOD,
  SIM_METER_DEFAULT_ID,
  SimOcmfMeter,
} from "./ocmf-meter.ts";
export type { RegisterState, SimOcmfMeterOptions } from "./ocmf-meter.ts";
export { decodeOcmfPublicKey, encodeOcmfPublicKey, verifyOcmfRecord } from "./ocmf-public-key.ts";
export { WebCryptoAdapter } from "./web-crypto-adapter.ts";
