// Public surface of api/: main.ts builds the app and the per-EVSE publication logs from here.
export { createApp } from "./app.ts";
export { bearerAuth, effectiveToken } from "./auth.ts";
export type { ApiContext, EvseRuntime, StorageHealth } from "./context.ts";
export { ApiError } from "./errors.ts";
export { applyControl, ControlSchema, type ControlRequest, type ControlTarget, type LocalLimitKeeper } from "./control.ts";
export { statusSummary, StatusSummarySchema, type StatusSummary } from "./status.ts";
export { createLogger, writeLog, type LogFormat, type EvseLogger, type Logger } from "./log.ts";
export { Metrics } from "./metrics.ts";
export { mqttStatus, MqttStatusSchema, type MqttSource, type MqttStatus } from "./mqtt-status.ts";
export { PublicationLog, type Publication } from "./publications.ts";
export { serve, type RunningServer } from "./server.ts";
