// A child process for the upload tests: the real API and update service on Bun.serve, with the
// update service pointed at a stand-in binary in `dir` (updates need a compiled, supervised
// program; here only the receiving side is under test). Prints "listening <port>".
//   bun test/helpers/upload-server.ts <dir> <public key> <max_size_mb> <token>
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../../api/server.ts";
import { configureUpdates } from "../../update/service.ts";
import { harness } from "../api-fakes.ts";

const [dir, publicKey, maxMb, token] = process.argv.slice(2);
const exe = join(dir!, "evse-manager");
writeFileSync(exe, "the binary in place", { mode: 0o755 });
configureUpdates({ exe, publicKey, maxBytes: Number(maxMb) * 1024 * 1024, supervised: true, arch: process.arch, restart() {}, log() {} });
const server = await serve(harness({ token: token! }).app.fetch, { hostname: "127.0.0.1", port: 0 });
process.stdout.write(`listening ${server.port}\n`);
