// The firmware contract (docs/board-protocol.md), imported by the host (rt-worker/) and by the
// simulated board (sim/board/): report codec with its named offsets, protocol codes, error bits,
// and the report rings that carry the bytes to a simulated board.
export * from "./codes.ts";
export * from "./report-codec.ts";
export * from "./board-errors.ts";
export * from "./report-ring.ts";
export type * from "./simulator.ts";
