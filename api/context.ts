// What the HTTP layer is given: per EVSE the kernel, the board's health and sim control, and the
// publication log. The API reads and forwards; it owns no charging state of its own.
import type { Context } from "hono";
import type { EvseKernel } from "../core/kernel-api.ts";
import type { BoardHandle } from "../rt-worker/board-handle.ts";
import type { LocalLimitKeeper } from "./control.ts";
import type { SessionHistory } from "../store/index.ts";
import { ApiError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { MqttSource } from "./mqtt-status.ts";
import type { PublicationLog } from "./publications.ts";
import type { ChargingFrontEnd } from "../ocpp/index.ts";
import type { StatusConfig } from "./status.ts";

export interface EvseRuntime extends StatusConfig {
  /** 1-based, as in the URL. */
  index: number;
  kernel: EvseKernel;
  board: Pick<BoardHandle, "health" | "sim">;
  publications: PublicationLog;
  /** The EVSE's session history (GET …/sessions); absent when nothing keeps one. */
  sessions?: Pick<SessionHistory, "listSessions">;
  /** Keeps PUT …/control's limit across restarts; absent: not kept. */
  localLimit?: LocalLimitKeeper;
}

/** Shown in /healthz: the charger works without its file, but an operator must learn of it. */
export interface StorageHealth {
  /** False on ":memory:", configured or fallen back to: nothing survives a restart. */
  persistent: boolean;
  /** Why the configured file is not in use as it was; null when all is well. */
  problem: string | null;
}

export interface ApiContext {
  version: string;
  /** Bearer token for /api/; null = no authentication. */
  token: string | null;
  evses: EvseRuntime[];
  metrics: Metrics;
  /** Milliseconds; uptime is measured from `startedAt`. */
  now(): number;
  startedAt: number;
  storage?: StorageHealth;
  /** Event-stream idle comment interval; the contract wants at least one every 15 s. */
  keepAliveMs?: number;
  /** Write requests (commands, enforce_limits, sim car) are logged here with their answer. */
  logger?: Logger;
  /** The token front end and OCPP (ocpp/index.ts); absent in tests that do not need them. */
  frontEnd?: Pick<ChargingFrontEnd, "tokens" | "visibility" | "metricsText" | "connectorStatuses">;
  /** The MQTT bridge (GET /api/v1/mqtt); absent when mqtt.url is not set. */
  mqtt?: MqttSource;
}

/** The EVSE named by the `:i` path parameter, or a 404 naming it. */
export function evseOf(ctx: ApiContext, c: Context): EvseRuntime {
  const raw = c.req.param("i") ?? "";
  const evse = /^[1-9][0-9]{0,5}$/.test(raw) ? ctx.evses[Number(raw) - 1] : undefined;
  if (!evse) throw unknownEvse(raw, ctx.evses.length);
  return evse;
}

/** The 404 for an EVSE index that is not configured (also the MQTT bridge's answer). */
export function unknownEvse(raw: string, count: number): ApiError {
  return new ApiError(404, "unknown_evse", `no EVSE with index "${raw}" (there ${count === 1 ? "is 1 EVSE" : `are ${count} EVSEs`}, counted from 1)`);
}

/** Handler for a known path asked with a method it does not serve. */
export function methodNotAllowed(allowed: string[]) {
  return (c: Context): never => {
    c.header("Allow", allowed.join(", "));
    throw new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(" or ")}`);
  };
}
