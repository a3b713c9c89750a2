// Load generator for bench/run.ts (api_load case): a separate process that keeps a few requests
// in flight against one loopback URL until its time is up. Bounded: it stops after `ms` or
// 120 s, whichever comes first, and refuses anything but 127.0.0.1.
const [url, msArg, concurrencyArg] = process.argv.slice(2);
if (url === undefined || !url.startsWith("http://127.0.0.1:")) {
  process.stderr.write("usage: bun bench/load-client.ts http://127.0.0.1:<port>/path <ms> [concurrency]\n");
  process.exit(2);
}
const end = performance.now() + Math.min(Number(msArg ?? 10_000), 120_000);
const concurrency = Math.max(1, Math.min(Number(concurrencyArg ?? 8), 64));
let done = 0;
let failed = 0;

async function lane(): Promise<void> {
  while (performance.now() < end) {
    try {
      const r = await fetch(url!);
      await r.arrayBuffer();
      done++;
    } catch {
      failed++;
      await Bun.sleep(5);
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, lane));
process.stdout.write(JSON.stringify({ requests: done, failed }) + "\n");
export {};
