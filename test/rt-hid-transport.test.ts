// The node-hid transport against a fake device with node-hid's HIDAsync shape: data and error
// events, write, close. No libusb needed: the opener is injected.
import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { HidTransport, type HidDeviceLike, type HidOpener, type HidTarget } from "../rt-worker/transport/hid.ts";
import type { TransportSink } from "../rt-worker/transport/transport.ts";

class FakeDevice extends EventEmitter implements HidDeviceLike {
  written: number[][] = [];
  closed = false;
  writeGate: Promise<void> | null = null;
  async write(values: number[] | Buffer): Promise<number> {
    this.written.push([...values]);
    if (this.writeGate) await this.writeGate;
    return values.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeOpener implements HidOpener {
  devices: FakeDevice[] = [];
  targets: HidTarget[] = [];
  failures = 0;
  async open(target: HidTarget): Promise<HidDeviceLike> {
    this.targets.push(target);
    if (this.failures > 0) {
      this.failures--;
      throw new Error("could not open HID device");
    }
    const d = new FakeDevice();
    this.devices.push(d);
    return d;
  }
}

function sink() {
  const reports: number[][] = [];
  const links: [boolean, string][] = [];
  const s: TransportSink = {
    report: (b, n) => reports.push([...b.subarray(0, n)]),
    link: (up, detail) => links.push([up, detail]),
  };
  return { s, reports, links };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
/** Until `done()` holds, or 2 s: a loaded machine delays the transport's 5 ms retry timer. */
async function until(done: () => boolean): Promise<void> {
  for (const end = Date.now() + 2000; !done() && Date.now() < end; ) await tick(5);
}

describe("hid transport", () => {
  test("opens by vendor/product id, delivers data events as reports and reports the link", async () => {
    const opener = new FakeOpener();
    const t = new HidTransport({ vendor_id: 0x1209, product_id: 0x0001 }, opener, 5);
    const { s, reports, links } = sink();
    t.start(s);
    await tick();
    expect(opener.targets).toEqual([{ vendor_id: 0x1209, product_id: 0x0001 }]);
    expect(links).toEqual([[true, "HID device 0x1209:0x0001"]]);
    opener.devices[0]!.emit("data", Buffer.from([1, 1, 0, 0]));
    expect(reports).toEqual([[1, 1, 0, 0]]);
    await t.close();
  });

  test("writes go to the device; while one is in flight only the newest waits", async () => {
    const opener = new FakeOpener();
    const t = new HidTransport({ path: "/dev/hidraw0" }, opener, 5);
    t.start(sink().s);
    await tick();
    const dev = opener.devices[0]!;
    let release!: () => void;
    dev.writeGate = new Promise((r) => (release = r));
    const report = (n: number) => new Uint8Array(64).fill(n);
    expect(t.write(report(1))).toBe(true);
    expect(t.write(report(2))).toBe(true);
    expect(t.write(report(3))).toBe(true);
    expect(dev.written.length).toBe(1);
    dev.writeGate = null;
    release();
    await tick();
    expect(dev.written.map((w) => w[0])).toEqual([1, 3]);
    await t.close();
  });

  test("an error event reports the board lost, closes the device and reconnects", async () => {
    const opener = new FakeOpener();
    const t = new HidTransport({ path: "/dev/hidraw0" }, opener, 5);
    const { s, links } = sink();
    t.start(s);
    await tick();
    opener.devices[0]!.emit("error", new Error("device disconnected"));
    expect(links.at(-1)![0]).toBe(false);
    expect(links.at(-1)![1]).toContain("device disconnected");
    expect(opener.devices[0]!.closed).toBe(true);
    expect(t.write(new Uint8Array(64))).toBe(false);
    await tick(30);
    expect(opener.devices.length).toBe(2);
    expect(links.at(-1)).toEqual([true, "HID device /dev/hidraw0"]);
    await t.close();
  });

  test("keeps retrying while the device cannot be opened, and stops retrying when closed", async () => {
    const opener = new FakeOpener();
    opener.failures = 3;
    const t = new HidTransport({ path: "/dev/hidraw9" }, opener, 5);
    const { s, links } = sink();
    t.start(s);
    await until(() => opener.targets.length >= 4);
    await tick(20); // a fifth attempt after the success would show now
    expect(opener.targets.length).toBe(4);
    expect(links).toEqual([[true, "HID device /dev/hidraw9"]]);
    await t.close();
    const n = opener.targets.length;
    await tick(30);
    expect(opener.targets.length).toBe(n);
  });

  test("a failing write counts as losing the device", async () => {
    const opener = new FakeOpener();
    const t = new HidTransport({ path: "/dev/hidraw0" }, opener, 1000);
    const { s, links } = sink();
    t.start(s);
    await tick();
    opener.devices[0]!.write = async () => {
      throw new Error("EIO");
    };
    t.write(new Uint8Array(64));
    await tick();
    expect(links.at(-1)).toEqual([false, "HID device /dev/hidraw0 lost: EIO"]);
    await t.close();
  });

  test("without libusb the real node-hid opener fails with a clear message instead of crashing", async () => {
    const t = new HidTransport({ path: "/dev/hidraw-does-not-exist" }, undefined, 10_000);
    const { s, links } = sink();
    t.start(s);
    for (let k = 0; k < 50 && t.lastError === ""; k++) await tick(20);
    expect(t.lastError).not.toBe("");
    expect(links).toEqual([]);
    await t.close();
  });
});
