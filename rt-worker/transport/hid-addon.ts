// node-hid's native addon (hidraw flavour, the one node-hid itself picks on Linux). Run from
// source it is found the way node-hid finds it, through pkg-prebuilds in node_modules. A
// compiled binary has no node_modules: build.ts replaces this module with one that `require`s
// the target's prebuild by a static path, which makes Bun embed the .node file in the binary.
import { createRequire } from "node:module";
import { dirname } from "node:path";

/** The addon's exports used by the transport (node-hid 3.x binding). */
export interface HidAddon {
  openAsyncHIDDevice(...args: (string | number)[]): Promise<HidNative>;
  devicesAsync(): Promise<{ path?: string; vendorId: number; productId: number }[]>;
}

export interface HidNative {
  write(data: Buffer | number[]): Promise<number>;
  close(): Promise<void>;
  readStart(callback: (err: unknown, data: Buffer) => void): void;
  readStop(): Promise<void> | void;
}

/** Loads the addon; throws the loader's own reason (a missing libusb, no prebuild). */
export function loadHidAddon(): HidAddon {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve("node-hid/package.json"));
  const bindings = require(require.resolve("pkg-prebuilds/bindings", { paths: [dir] }));
  return bindings(dir, { name: process.platform === "linux" ? "HID_hidraw" : "HID", napi_versions: [4] });
}
