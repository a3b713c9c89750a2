// Polls `get` until `ok` holds, for end-to-end tests that wait on a running program's state.
// Fails naming what was awaited and the last value seen.
export async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: last value ${JSON.stringify(v)}`);
    await Bun.sleep(stepMs);
  }
}
