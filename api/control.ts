// PUT …/{i}/control (integration.md §2): the local energy manager's switch, current limit and
// phase count, in one call. Used by the HTTP route and by the MQTT bridge's control topics, so
// both refuse the same bodies with the same ApiError. Every check comes before the kernel sees
// anything: a refused request changes nothing.
import * as v from "valibot";
import { KernelNotStartedError, type EvseKernel } from "../core/kernel-api.ts";
import { refuseArrayAsObject } from "./array-as-object.ts";
import { ApiError, validationError } from "./errors.ts";
import { statusSummary, type StatusConfig, type StatusSummary } from "./status.ts";

/** Named so that the OpenAPI document can say it (openapi.ts). */
export const isOfferableCurrent = (a: number): boolean => a === 0 || a >= 6;

export const ControlSchema = v.strictObject({
  enabled: v.optional(v.boolean()),
  /** 0 pauses (session kept, WaitingForEnergy); null removes the local limit. */
  max_current_A: v.optional(
    v.nullable(
      v.pipe(
        v.number(),
        v.finite("must be a finite number"),
        v.check(isOfferableCurrent, "must be 0 (pause) or at least 6: an EV cannot be offered between 0 and 6 A"),
      ),
    ),
  ),
  phases: v.optional(v.picklist([1, 3], "must be 1 or 3")),
});
export type ControlRequest = v.InferOutput<typeof ControlSchema>;

/** Where the local limit is kept across restarts (store/local-limit-state.ts). */
export interface LocalLimitKeeper {
  save(limitA: number | null): void;
}

export interface ControlTarget extends StatusConfig {
  kernel: Pick<EvseKernel, "status" | "errors" | "localControl">;
  localLimit?: LocalLimitKeeper;
}

/** Validates `body`, applies it and answers the status summary as it is afterwards. */
export async function applyControl(evse: ControlTarget, body: unknown): Promise<StatusSummary> {
  const parsed = v.safeParse(ControlSchema, body, { abortEarly: false });
  if (!parsed.success) throw validationError("invalid control request", parsed.issues);
  refuseArrayAsObject("invalid control request", body, parsed.output);
  const request = parsed.output;
  const limit = request.max_current_A;
  const hardwareMax = evse.kernel.status().hardware_max_current_A;
  if (limit !== undefined && limit !== null && hardwareMax !== null && limit > hardwareMax) {
    const message = `must be at most the hardware maximum of ${hardwareMax} A`;
    throw new ApiError(400, "invalid_body", `invalid control request: max_current_A: ${message}`, [{ path: "max_current_A", message }]);
  }
  let refusal: string | null;
  try {
    refusal = await evse.kernel.localControl(request);
  } catch (err) {
    if (err instanceof KernelNotStartedError) throw new ApiError(409, "not_started", err.message);
    throw err;
  }
  if (refusal !== null) throw new ApiError(409, "phase_switch_unsupported", `phases: ${refusal}`, [{ path: "phases", message: refusal }]);
  if (limit !== undefined) evse.localLimit?.save(limit);
  return statusSummary(evse);
}
