// The yardstick of bench/api.ts: a bare Bun.serve that answers every request with the same bytes
// (the body of GET /api/v1/evses/1/vars, passed as a file). Prints its port, serves until killed.
//   bun bench/bare-serve.ts <body.json>
const body = await Bun.file(process.argv[2]!).bytes();
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});
process.stdout.write(`${server.port}\n`);
export {};
