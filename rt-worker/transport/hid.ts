// A real board over USB HID through node-hid's native addon. The addon is loaded lazily (dynamic
// import, here only) so the simulated default runs where libusb/hidraw are missing. On Linux the
// `hidraw` flavour is used, as node-hid picks it. The device wrapper is node-hid's HIDAsync, kept
// small: node-hid's own wrapper insists on the addon it loaded itself, which a compiled binary
// cannot (hid-addon.ts). When the device goes away the link is reported down and the transport
// keeps trying to open it again.
import { EventEmitter } from "node:events";
import { REPORT_SIZE } from "../../board-protocol/index.ts";
import type { HidAddon, HidNative } from "./hid-addon.ts";
import type { Transport, TransportSink } from "./transport.ts";

/** The part of node-hid's HIDAsync the transport uses (node-hid 3.x). */
export interface HidDeviceLike {
  on(event: "data", listener: (data: Buffer) => void): unknown;
  on(event: "error", listener: (err: unknown) => void): unknown;
  write(values: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
}

/** Opens one device; the default loads node-hid. */
export interface HidOpener {
  open(target: HidTarget): Promise<HidDeviceLike>;
}

export interface HidTarget {
  path?: string;
  vendor_id?: number;
  product_id?: number;
}

export const HID_RECONNECT_MS = 1000;

function describe(t: HidTarget): string {
  if (t.path !== undefined) return `HID device ${t.path}`;
  const hex = (n: number | undefined) => (n === undefined ? "any" : `0x${n.toString(16).padStart(4, "0")}`);
  return `HID device ${hex(t.vendor_id)}:${hex(t.product_id)}`;
}

/** node-hid's device object: `data` events from the addon's read thread, errors as events. */
class HidAsyncDevice extends EventEmitter implements HidDeviceLike {
  readonly #raw: HidNative;
  #reading = false;
  #closing = false;

  constructor(raw: HidNative) {
    super();
    this.#raw = raw;
    this.on("newListener", (name: string) => {
      if (name === "data") process.nextTick(() => this.#resume());
    });
  }

  #resume(): void {
    if (this.#reading || this.#closing || this.listenerCount("data") === 0) return;
    this.#reading = true;
    this.#raw.readStart((err, data) => {
      try {
        if (err) {
          if (!this.#closing) this.emit("error", err);
        } else this.emit("data", data);
      } catch (e) {
        // A listener's exception must not unwind into the addon's callback.
        setImmediate(() => !this.#closing && this.emit("error", e));
      }
    });
  }

  async write(values: number[] | Buffer): Promise<number> {
    return this.#raw.write(values);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#raw.close();
    this.removeAllListeners();
  }
}

// The first load's outcome stands: a module whose native load failed comes back empty from the
// loader's cache, which would turn the real reason into a confusing one on the next attempt.
let addonLoad: Promise<HidAddon> | null = null;
function loadAddonOnce(): Promise<HidAddon> {
  addonLoad ??= import("./hid-addon.ts")
    .then((m) => m.loadHidAddon())
    .catch((err: unknown) => {
      throw new Error(`node-hid is not available: ${(err as Error).message}`);
    });
  return addonLoad;
}

/** node-hid's addon, loaded on first use. Throws with the loader's reason when it cannot load. */
export const nodeHidOpener: HidOpener = {
  async open(target: HidTarget): Promise<HidDeviceLike> {
    const addon = await loadAddonOnce();
    const open = async (...args: (string | number)[]) => new HidAsyncDevice(await addon.openAsyncHIDDevice(...args));
    if (target.path !== undefined) return open(target.path);
    if (target.vendor_id !== undefined && target.product_id !== undefined) return open(target.vendor_id, target.product_id);
    const devices = await addon.devicesAsync();
    const found = devices.find(
      (d) => (target.vendor_id === undefined || d.vendorId === target.vendor_id) && (target.product_id === undefined || d.productId === target.product_id),
    );
    if (found?.path === undefined) throw new Error(`no ${describe(target)} found`);
    return open(found.path);
  },
};

export class HidTransport implements Transport {
  readonly kind = "hid" as const;
  readonly #target: HidTarget;
  readonly #opener: HidOpener;
  readonly #reconnectMs: number;
  #sink: TransportSink | null = null;
  #device: HidDeviceLike | null = null;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  // Two preallocated buffers: one in flight, one holding the newest report that waits for it.
  readonly #bufs = [Buffer.alloc(REPORT_SIZE), Buffer.alloc(REPORT_SIZE)];
  #inFlight = false;
  #pending = false;
  #next = 0;
  /** Last reason the device could not be used, for logs and health. */
  lastError = "";

  constructor(target: HidTarget, opener: HidOpener = nodeHidOpener, reconnectMs = HID_RECONNECT_MS) {
    this.#target = target;
    this.#opener = opener;
    this.#reconnectMs = reconnectMs;
  }

  start(sink: TransportSink): void {
    this.#sink = sink;
    void this.#connect();
  }

  poll(): void {}

  write(report: Uint8Array): boolean {
    const dev = this.#device;
    if (dev === null) return false;
    const buf = this.#bufs[this.#next]!;
    buf.set(report.subarray(0, REPORT_SIZE));
    if (this.#inFlight) {
      // Only the newest report matters: it carries the full requested state.
      this.#pending = true;
      return true;
    }
    this.#send(dev, buf);
    return true;
  }

  #send(dev: HidDeviceLike, buf: Buffer): void {
    this.#inFlight = true;
    this.#next = this.#next === 0 ? 1 : 0;
    dev.write(buf).then(
      () => this.#written(),
      (err) => {
        this.#inFlight = false;
        this.#lost(err);
      },
    );
  }

  #written(): void {
    this.#inFlight = false;
    const dev = this.#device;
    if (this.#pending && dev !== null) {
      this.#pending = false;
      this.#send(dev, this.#bufs[this.#next]!);
    }
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    try {
      const dev = await this.#opener.open(this.#target);
      if (this.#closed) {
        await dev.close().catch(() => {});
        return;
      }
      this.#device = dev;
      this.lastError = "";
      dev.on("data", (data: Buffer) => this.#sink?.report(data, data.length));
      dev.on("error", (err: unknown) => this.#lost(err));
      this.#sink?.link(true, describe(this.#target));
    } catch (err) {
      const reason = (err as Error).message ?? String(err);
      // Once per distinct reason: the operator learns why the board is silent (a missing libusb,
      // no device) without a line every reconnect attempt.
      if (reason !== this.lastError) {
        console.error(`hid: cannot open ${describe(this.#target)}: ${reason}`);
        this.#sink?.problem?.(`cannot open ${describe(this.#target)}: ${reason}`);
      }
      this.lastError = reason;
      this.#retry();
    }
  }

  #lost(err: unknown): void {
    const dev = this.#device;
    if (dev === null) return;
    this.#device = null;
    this.#inFlight = false;
    this.#pending = false;
    this.lastError = err instanceof Error ? err.message : String(err);
    this.#sink?.link(false, `${describe(this.#target)} lost: ${this.lastError}`);
    void dev.close().catch(() => {});
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, this.#reconnectMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const dev = this.#device;
    this.#device = null;
    this.#sink = null;
    if (dev !== null) await dev.close().catch(() => {});
  }
}
