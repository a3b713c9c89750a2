// GET /openapi.json: the routes of the HTTP API as an OpenAPI 3.1 document (docs/http-api.md is written from it), with request and
// response bodies generated (json-schema.ts) from the schemas the server validates with:
// COMMAND_ARGS / COMMAND_RESULTS / VARIABLE_SCHEMAS / EnforcedLimitsSchema / SessionPageSchema and
// the sim bodies.
import { COMMAND_NAMES, VARIABLE_NAMES } from "../core/kernel-api.ts";
import { COMMAND_ARGS, COMMAND_RESULTS, EnforcedLimitsSchema, VARIABLE_SCHEMAS } from "../core/types/index.ts";
import { SESSION_PAGE_DEFAULT, SESSION_PAGE_MAX } from "../store/index.ts";
import { ControlSchema } from "./control.ts";
import { MqttStatusSchema } from "./mqtt-status.ts";
import { toJsonSchema } from "./json-schema.ts";
import { VerifiedSessionPageSchema } from "./routes/sessions.ts";
import { StatusSummarySchema } from "./status.ts";
import { CarScriptBodySchema, SimBoardBodySchema } from "./routes/sim.ts";
import { TokenRequestSchema } from "./routes/tokens.ts";

const json = (schema: object) => ({ "application/json": { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref("Error")) });
const evseParam = { name: "i", in: "path", required: true, description: "EVSE index, from 1", schema: { type: "integer", minimum: 1 } };
const secured = [{ bearer: [] }];

/** The error answers every /api/ route can give; 409 and 413/415 only where they apply. */
function responses(ok: Record<string, unknown>, opts: { body?: boolean; conflict?: string } = {}) {
  return {
    ...ok,
    ...(opts.body ? { "400": errorResponse("Malformed JSON or schema failure") } : {}),
    "401": errorResponse("Missing or wrong bearer token"),
    "404": errorResponse("Unknown EVSE, variable or command"),
    "405": errorResponse("Wrong method"),
    ...(opts.conflict ? { "409": errorResponse(opts.conflict) } : {}),
    ...(opts.body ? { "413": errorResponse("Body over 64 KiB"), "415": errorResponse("Body that is not JSON") } : {}),
  };
}

const SIM_STATE = {
  type: "object",
  required: ["cp_state", "pwm_duty_percent", "relays_closed", "phases", "locked", "rcd_current_mA", "meter", "car"],
  properties: {
    cp_state: { enum: ["A", "B", "C", "D", "E", "F"] },
    pwm_duty_percent: { type: ["number", "null"] },
    relays_closed: { type: "boolean" },
    phases: { enum: [1, 3] },
    locked: { type: "boolean" },
    rcd_current_mA: { type: "number" },
    meter: {
      type: "object",
      properties: {
        energy_Wh_import: { type: "number" },
        power_W: { type: "number" },
        current_A: { type: "object", properties: { L1: { type: "number" }, L2: { type: "number" }, L3: { type: "number" } } },
        voltage_V: { type: "object", properties: { L1: { type: "number" }, L2: { type: "number" }, L3: { type: "number" } } },
      },
    },
    car: { type: "object", properties: { running: { type: "boolean" }, script: { type: ["string", "null"] }, state: { type: "string" } } },
  },
};

/** /healthz `storage`: a problem with the file is reported there but is not a 503. */
const STORAGE_HEALTH = {
  type: "object",
  required: ["persistent", "problem"],
  properties: {
    persistent: { type: "boolean", description: "false on \":memory:\": nothing survives a restart" },
    problem: { type: ["string", "null"], description: "why the configured storage.path is not in use as it was (corrupt file moved aside, fallback to memory)" },
  },
};

export function openApiDocument(version: string): object {
  const schemas: Record<string, unknown> = {
    Error: {
      type: "object",
      required: ["error", "message", "details"],
      additionalProperties: false,
      properties: {
        error: { type: "string" },
        message: { type: "string" },
        details: {
          type: "array",
          items: { type: "object", required: ["path", "message"], properties: { path: { type: "string" }, message: { type: "string" } } },
        },
      },
    },
    EnforcedLimits: toJsonSchema(EnforcedLimitsSchema),
    SimState: SIM_STATE,
    SessionPage: toJsonSchema(VerifiedSessionPageSchema),
    StatusSummary: toJsonSchema(StatusSummarySchema),
    Control: toJsonSchema(ControlSchema),
    MqttStatus: toJsonSchema(MqttStatusSchema),
  };
  for (const name of VARIABLE_NAMES) schemas[`var_${name}`] = toJsonSchema(VARIABLE_SCHEMAS[name]);

  const paths: Record<string, unknown> = {
    "/healthz": {
      get: {
        summary: "Liveness of the process, the real-time worker and the board (no token needed)",
        responses: {
          "200": { description: "Healthy", content: json({ type: "object", required: ["status", "version", "uptime_s"], properties: { status: { const: "ok" }, version: { type: "string" }, uptime_s: { type: "number" }, storage: STORAGE_HEALTH } }) },
          "503": { description: "Worker not running or board not answering", content: json({ type: "object", required: ["status", "version", "uptime_s"], properties: { status: { type: "string" } } }) },
        },
      },
    },
    "/metrics": { get: { summary: "Prometheus metrics", responses: { "200": { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } } } } },
    "/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1", content: json({ type: "object" }) } } } },
    "/docs": { get: { summary: "API reference: this document as one HTML page", responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } } },
    "/": { get: { summary: "Web dashboard (no token needed to load it; its API calls need one)", responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } } },
    "/favicon.ico": { get: { summary: "The dashboard's icon (SVG)", responses: { "200": { description: "image/svg+xml", content: { "image/svg+xml": { schema: { type: "string" } } } } } } },
    "/assets/{name}": {
      get: {
        summary: "Dashboard assets, embedded in the executable",
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": { description: "The asset" }, "404": errorResponse("No such asset") },
      },
    },
    "/api/v1/system/update": {
      post: {
        security: secured,
        summary: "Install a signed new executable (raw request body) and restart into it; ?force=true even while a transaction is open",
        parameters: [
          { name: "X-Update-Signature", in: "header", required: true, description: "Detached Ed25519 signature of the body, base64", schema: { type: "string" } },
          { name: "force", in: "query", required: false, schema: { type: "boolean", default: false } },
        ],
        requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } } },
        responses: {
          "202": { description: "Accepted; the program restarts into the new executable", content: json({ type: "object" }) },
          "400": errorResponse("Missing, malformed or non-verifying signature, an unusable executable, or a bad force value"),
          "401": errorResponse("Missing or wrong bearer token"),
          "403": errorResponse("No API token is configured: updates need one"),
          "405": errorResponse("Wrong method"),
          "409": errorResponse("A transaction is open and force is not set"),
          "413": errorResponse("Executable larger than update.max_size_mb"),
          "422": errorResponse("A signed executable that cannot run on this machine: its program interpreter is missing, or `--version` fails or times out"),
        },
      },
    },
    "/api/v1/tokens": {
      post: {
        security: secured,
        summary: "Present a token (RFID reader, display, dashboard): stops the transaction it or its group runs, or is validated (local list, cache, Authorize.req, auth.tokens) and authorizes an EVSE",
        requestBody: { required: true, content: json(toJsonSchema(TokenRequestSchema)) },
        responses: {
          ...responses(
            {
              "200": {
                description: "What happened",
                content: json({
                  type: "object",
                  required: ["result", "authorization_status", "evse"],
                  additionalProperties: false,
                  properties: {
                    result: { enum: ["Authorized", "Stopped", "Rejected", "NoConnectorAvailable", "AlreadyInProcess"] },
                    authorization_status: { enum: ["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx", null] },
                    evse: { type: ["integer", "null"], minimum: 1 },
                  },
                }),
              },
            },
            { body: true, conflict: "The kernel has not started yet" },
          ),
        },
      },
    },
    "/api/v1/ocpp": {
      get: {
        security: secured,
        summary: "The OCPP 1.6J connection to the CSMS",
        responses: {
          "200": {
            description: "Connection state",
            content: json({
              type: "object",
              required: ["configured", "connected", "registration", "queued_transaction_messages", "last_error"],
              additionalProperties: false,
              properties: {
                configured: { type: "boolean" },
                connected: { type: "boolean" },
                registration: { enum: ["Accepted", "Pending", "Rejected", null] },
                queued_transaction_messages: { type: "integer", minimum: 0 },
                last_error: { type: ["string", "null"] },
              },
            }),
          },
          "401": errorResponse("Missing or wrong bearer token"),
          "405": errorResponse("Wrong method"),
        },
      },
    },
    "/api/v1/ocpp/connectors": {
      get: {
        security: secured,
        summary: "Each OCPP connector's status as last computed (connector 0 is the charge point); empty without OCPP",
        responses: {
          "200": {
            description: "Statuses",
            content: json({
              type: "array",
              items: { type: "object", required: ["connector_id", "status", "error_code"], properties: { connector_id: { type: "integer" }, status: { type: "string" }, error_code: { type: "string" } } },
            }),
          },
          "401": errorResponse("Missing or wrong bearer token"),
        },
      },
    },
    "/api/v1/evses": {
      get: {
        security: secured,
        summary: "The EVSEs of this process",
        responses: responses({
          "200": { description: "One object per EVSE", content: json({ type: "array", items: { type: "object", required: ["index", "evse_id", "connectors"], properties: { index: { type: "integer" }, evse_id: { type: ["string", "null"] }, connectors: { type: "array" } } } }) },
        }),
      },
    },
    "/api/v1/evses/{i}/vars": {
      get: {
        security: secured,
        parameters: [evseParam],
        summary: "Every variable's last published value (null if never published)",
        responses: responses({
          "200": {
            description: "All 14 variables",
            content: json({
              type: "object",
              required: [...VARIABLE_NAMES],
              additionalProperties: false,
              properties: Object.fromEntries(VARIABLE_NAMES.map((n) => [n, { anyOf: [ref(`var_${n}`), { type: "null" }] }])),
            }),
          },
        }),
      },
    },
    "/api/v1/evses/{i}/vars/{name}": {
      get: {
        security: secured,
        parameters: [evseParam, { name: "name", in: "path", required: true, schema: { enum: [...VARIABLE_NAMES] } }],
        summary: "One variable's last published value, null if never published",
        responses: responses({ "200": { description: "The value (schema: components var_<name>)", content: json({}) } }),
      },
    },
    "/api/v1/evses/{i}/events": {
      get: {
        security: secured,
        parameters: [
          evseParam,
          { name: "Last-Event-ID", in: "header", required: false, description: "Replay every message after this id instead of the snapshot", schema: { type: "string" } },
          {
            name: "types",
            in: "query",
            required: false,
            description:
              "Comma-separated variable names to send (default: every variable), and `errors` for the active-error list: sent on connect and on every change, as `event: errors` without an id (not a publication, not replayed)",
            schema: { type: "string", examples: ["session_event,errors"] },
          },
        ],
        summary: "Server-sent events: the snapshot (or the replay after Last-Event-ID), then every publication; event = variable name, data = its value; ?types= filters",
        responses: responses({
          "200": { description: "Event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
          "400": errorResponse("types names something that is neither a variable nor errors (invalid_query, naming it)"),
        }),
      },
    },
    "/api/v1/evses/{i}/errors": {
      get: {
        security: secured,
        parameters: [evseParam],
        summary: "Active errors",
        responses: responses({
          "200": {
            description: "Active errors",
            content: json({
              type: "array",
              items: {
                type: "object",
                required: ["type", "sub_type", "message", "severity", "state", "timestamp", "uuid"],
                properties: { type: { type: "string" }, sub_type: { type: "string" }, message: { type: "string" }, severity: { enum: ["Low", "Medium", "High"] }, state: { const: "Active" }, timestamp: { type: "string", format: "date-time" }, uuid: { type: "string" } },
              },
            }),
          },
        }),
      },
    },
    "/api/v1/evses/{i}/sessions": {
      get: {
        security: secured,
        parameters: [
          evseParam,
          { name: "limit", in: "query", required: false, description: "Sessions per page", schema: { type: "integer", minimum: 1, maximum: SESSION_PAGE_MAX, default: SESSION_PAGE_DEFAULT } },
          { name: "before", in: "query", required: false, description: "Only sessions older than this id: the next_before of the previous page", schema: { type: "integer", minimum: 1 } },
        ],
        summary:
          "Session history, newest first: energy, durations, reasons, the OCMF records at transaction start and stop, and ocmf_verified: whether each record verifies against the published powermeter_public_key_ocmf (null: no record or no key)",
        responses: responses({
          "200": { description: "One page of sessions", content: json(ref("SessionPage")) },
          "400": errorResponse("limit or before is not a whole number in range, or an unknown query parameter"),
        }),
      },
    },
    "/api/v1/evses/{i}/energy/enforce_limits": {
      post: {
        security: secured,
        parameters: [evseParam],
        summary: "Apply limits from an energy manager",
        requestBody: { required: true, content: json(ref("EnforcedLimits")) },
        responses: responses({ "200": { description: "Applied", content: json({ type: "object", required: ["result"], properties: { result: { type: "null" } } }) } }, { body: true }),
      },
    },
    "/api/v1/evses/{i}/status": {
      get: {
        security: secured,
        parameters: [evseParam],
        summary: "Status summary for energy managers: state, CP, plug, charging, limits, phases, meter values, session, errors",
        responses: responses({ "200": { description: "The status summary", content: json(ref("StatusSummary")) } }),
      },
    },
    "/api/v1/evses/{i}/control": {
      put: {
        security: secured,
        parameters: [evseParam],
        summary:
          "Local control: enabled (enable_disable as LocalAPI), max_current_A (standing limit; 0 pauses, 6…hardware maximum, null removes it; persisted), phases (1 or 3). Any PUT refreshes the control.failsafe_timeout_s timer",
        requestBody: { required: true, content: json(ref("Control")) },
        responses: responses(
          { "200": { description: "Applied; the status summary afterwards", content: json(ref("StatusSummary")) } },
          { body: true, conflict: "Phase switch the hardware cannot make (while charging, or more phases than it has), or enabled/phases before the kernel has started" },
        ),
      },
    },
    "/api/v1/mqtt": {
      get: {
        security: secured,
        summary: "The MQTT bridge's connection: configured (mqtt.url set), connected, the broker (scheme://host:port, no credentials), the last connection error, queued and dropped messages",
        responses: {
          "200": { description: "Connection state", content: json(ref("MqttStatus")) },
          "401": errorResponse("Missing or wrong bearer token"),
          "405": errorResponse("Wrong method"),
        },
      },
    },
    "/api/v1/evses/{i}/sim": {
      get: { security: secured, parameters: [evseParam], summary: "Simulated board state", responses: responses({ "200": { description: "Board state", content: json(ref("SimState")) } }, { conflict: "Not a simulated board" }) },
    },
    "/api/v1/evses/{i}/sim/car": {
      post: {
        security: secured,
        parameters: [evseParam],
        summary: "Start a car script (or replace the running one)",
        requestBody: { required: true, content: json(toJsonSchema(CarScriptBodySchema)) },
        responses: responses({ "202": { description: "Script started", content: json({ type: "object", properties: { accepted: { const: true } } }) } }, { body: true, conflict: "A script runs and replace is not true, or not a simulated board" }),
      },
      delete: {
        security: secured,
        parameters: [evseParam],
        summary: "Stop the running car script; the car stays as it is",
        responses: responses({ "200": { description: "Stopped", content: json({ type: "object", properties: { stopped: { const: true } } }) } }, { conflict: "Not a simulated board" }),
      },
    },
    "/api/v1/evses/{i}/sim/board": {
      post: {
        security: secured,
        parameters: [evseParam],
        summary: "Run-time simulated-board knobs (sim.weld_relays)",
        requestBody: { required: true, content: json(toJsonSchema(SimBoardBodySchema)) },
        responses: responses({ "200": { description: "Applied", content: json(toJsonSchema(SimBoardBodySchema)) } }, { body: true, conflict: "Not a simulated board" }),
      },
    },
  };

  // One path per command, so each carries its own argument and result schema.
  for (const name of COMMAND_NAMES) {
    paths[`/api/v1/evses/{i}/commands/${name}`] = {
      post: {
        security: secured,
        parameters: [evseParam],
        operationId: name,
        summary: `evse_manager command ${name} (arguments and result as in EVerest evse_manager 2025.1.0)`,
        requestBody: { required: false, content: json(toJsonSchema(COMMAND_ARGS[name])) },
        responses: responses(
          { "200": { description: "The command's result", content: json({ type: "object", required: ["result"], additionalProperties: false, properties: { result: toJsonSchema(COMMAND_RESULTS[name]) } }) } },
          { body: true, conflict: name === "get_evse" || name === "external_ready_to_start_charging" ? undefined : "The kernel has not started yet" },
        ),
      },
    };
  }

  return {
    openapi: "3.1.0",
    info: { title: "evse-manager", version, description: "EVerest evse_manager 2025.1.0 over HTTP, version 1 of the API; reference with the event stream and error rules: docs/http-api.md in the repository" },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas },
    paths,
  };
}
