// Public surface of the board transports.
export type { Transport, TransportSink } from "./transport.ts";
export { SimTransport } from "./sim.ts";
export { HID_RECONNECT_MS, HidTransport, nodeHidOpener } from "./hid.ts";
export type { HidDeviceLike, HidOpener, HidTarget } from "./hid.ts";
