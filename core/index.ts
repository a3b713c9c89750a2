// Public surface of core/: the kernel and its contract (docs/architecture.md).
export { Kernel } from "./kernel.ts";
export * from "./kernel-api.ts";
export type { EvseState } from "./charger.ts";
export { dutyPercentForCurrent, powerAvailable, POWER_THRESHOLD_A } from "./pwm.ts";
export { SiteCoordinator, wantsToCharge, type SiteEvse } from "./site-coordinator.ts";
export { SiteBalancer, currentForDutyPercent, offeredForLimit } from "./site-balancer.ts";
