// Public surface of the simulated boards: the SimulatorFactory main passes to startBoard.
export { simulatedBoards } from "./boards.ts";
