// A real OCPP 1.6J central system for the end-to-end tests: ocpp-rpc's RPCServer with strictMode
// (every message in both directions is validated against the official OCPP 1.6 JSON schemas),
// run under Node, not Bun, so the charge point is tested against an implementation none of its
// code shares. It answers the charge point's calls (answers configurable), records every frame,
// and performs CSMS calls on command through a small control HTTP server.
//
//   node test/ocpp/csms.cjs [--tls CERT KEY] [--password PW]
//   stdout first line: {"ready": true, "port": <ocpp port>, "control": <control port>}
//
// Control API (JSON): GET /log → every recorded entry; POST /call {action, params, timeoutMs?} →
// {result} | {error: {code, message}}; POST /raw {frame, waitMs?} → {replies: [raw frames]};
// POST /answers {Action: payload|null} → override the answer to the charge point's calls
// (null restores the default); POST /outage {ms} → drop the connection and refuse new ones for ms;
// POST /close → drop the connection.
"use strict";
const http = require("node:http");
const https = require("node:https");
const fs = require("node:fs");
const { RPCServer, createRPCError } = require("ocpp-rpc");

const args = process.argv.slice(2);
const tlsAt = args.indexOf("--tls");
const tls = tlsAt >= 0 ? { cert: fs.readFileSync(args[tlsAt + 1]), key: fs.readFileSync(args[tlsAt + 2]) } : null;
const pwAt = args.indexOf("--password");
const password = pwAt >= 0 ? args[pwAt + 1] : null;
const caAt = args.indexOf("--client-ca");
const clientCa = caAt >= 0 ? fs.readFileSync(args[caAt + 1]) : null;

const log = [];
let seq = 0;
function record(entry) {
  entry.seq = ++seq;
  entry.at = new Date().toISOString();
  log.push(entry);
  process.stdout.write(JSON.stringify(entry) + "\n");
}

let nextTransactionId = 1000;
const answers = {};
const defaults = {
  BootNotification: () => ({ status: "Accepted", currentTime: new Date().toISOString(), interval: 300 }),
  Heartbeat: () => ({ currentTime: new Date().toISOString() }),
  StatusNotification: () => ({}),
  Authorize: () => ({ idTagInfo: { status: "Accepted" } }),
  StartTransaction: () => ({ transactionId: nextTransactionId++, idTagInfo: { status: "Accepted" } }),
  StopTransaction: () => ({ idTagInfo: { status: "Accepted" } }),
  MeterValues: () => ({}),
  DataTransfer: () => ({ status: "UnknownVendorId" }),
  FirmwareStatusNotification: () => ({}),
  DiagnosticsStatusNotification: () => ({}),
};

let refuseUntil = 0;
let current = null;

const server = new RPCServer({ protocols: ["ocpp1.6"], strictMode: true, pingIntervalMs: 0 });
server.auth((accept, reject, handshake) => {
  if (Date.now() < refuseUntil) return reject(503, "outage");
  if (password !== null) {
    const given = handshake.password ? handshake.password.toString("utf8") : null;
    if (given !== password) {
      record({ type: "auth_refused", identity: handshake.identity });
      return reject(401);
    }
  }
  const cert = handshake.request.socket.getPeerCertificate ? handshake.request.socket.getPeerCertificate() : null;
  accept({ clientCertSubject: cert && cert.subject ? cert.subject.CN : null }, "ocpp1.6");
});

server.on("client", (client) => {
  current = client;
  record({ type: "connected", identity: client.identity, protocol: client.protocol, session: client.session });
  client.on("message", ({ message, outbound }) => {
    if (!outbound) record({ type: "frame", frame: String(message) });
  });
  client.on("strictValidationFailure", (e) => {
    record({ type: "strict_failure", method: e.method, outbound: e.outbound, isCall: e.isCall, error: String(e.error && e.error.message) });
  });
  client.on("close", () => {
    record({ type: "disconnected", identity: client.identity });
    if (current === client) current = null;
  });
  client.handle(({ method, params }) => {
    record({ type: "call", action: method, params });
    const answer = answers[method];
    if (answer && answer.callError) throw createRPCError(answer.callError, "as told by the test");
    if (answer && answer.noReply) return new Promise(() => {});
    if (answer) return JSON.parse(JSON.stringify(answer).replaceAll('"$TXID"', String(nextTransactionId++)));
    const make = defaults[method];
    if (!make) throw createRPCError("NotImplemented", `no default answer for ${method}`);
    return make(params);
  });
});

const ocppHttp = tls
  ? https.createServer({ ...tls, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}) })
  : http.createServer();
ocppHttp.on("upgrade", server.handleUpgrade);

function body(req) {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => resolve(text ? JSON.parse(text) : {}));
  });
}

const control = http.createServer(async (req, res) => {
  const reply = (status, value) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  try {
    if (req.method === "GET" && req.url === "/log") return reply(200, log);
    const input = await body(req);
    if (req.url === "/answers") {
      for (const [action, payload] of Object.entries(input)) {
        if (payload === null) delete answers[action];
        else answers[action] = payload;
      }
      return reply(200, { ok: true });
    }
    if (req.url === "/close") {
      if (current) await current.close({ force: true });
      return reply(200, { ok: true });
    }
    if (req.url === "/outage") {
      refuseUntil = Date.now() + (input.ms || 0);
      if (current) await current.close({ force: true });
      return reply(200, { ok: true });
    }
    if (!current) return reply(409, { error: "no charge point connected" });
    if (req.url === "/call") {
      record({ type: "csms_call", action: input.action, params: input.params });
      try {
        const result = await current.call(input.action, input.params, { callTimeoutMs: input.timeoutMs || 10000 });
        record({ type: "csms_result", action: input.action, result });
        return reply(200, { result });
      } catch (err) {
        record({ type: "csms_error", action: input.action, code: err.rpcErrorCode || null, message: err.message });
        return reply(200, { error: { code: err.rpcErrorCode || null, message: err.message } });
      }
    }
    if (req.url === "/raw") {
      const client = current;
      const replies = [];
      const listener = ({ message, outbound }) => {
        if (!outbound) replies.push(String(message));
      };
      client.on("message", listener);
      // Sent on the socket itself: the RPC layer must not fix what the test breaks on purpose.
      for (const frame of input.frames || [input.frame]) client._ws.send(frame);
      await new Promise((r) => setTimeout(r, input.waitMs || 200));
      client.off("message", listener);
      return reply(200, { replies });
    }
    reply(404, { error: "unknown control route" });
  } catch (err) {
    reply(500, { error: String(err && err.stack) });
  }
});

ocppHttp.listen(0, "127.0.0.1", () => {
  control.listen(0, "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ ready: true, port: ocppHttp.address().port, control: control.address().port }) + "\n");
  });
});
process.on("SIGTERM", () => process.exit(0));
// The test runner owns our stdin: when it goes away, so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
