// A worker thread for test/rt-liveness.test.ts: reports its kernel thread id, then on request
// spins (a hung busy loop) or blocks in Atomics.wait (hung, asleep) until terminated.
import { ownThreadId } from "../../rt-worker/liveness.ts";

declare const self: Worker;

self.onmessage = (e: MessageEvent<"spin" | "block">) => {
  if (e.data === "spin") for (;;) {}
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
};
self.postMessage(ownThreadId());
