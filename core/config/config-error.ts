// A configuration problem: names the file, the key path and what is wrong (http-api.md:
// the program prints it and exits 2).
export interface ConfigProblem {
  path: string; // e.g. "evses[1].sim.pp_resistor_ohm"; "" for the file as a whole
  message: string;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly path: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    const lines = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
    const text =
      lines.length <= 1 ? `${file}: ${lines[0] ?? "invalid configuration"}` : `${file}:\n  ${lines.join("\n  ")}`;
    super(`invalid configuration ${text}`);
    this.name = "ConfigError";
    this.file = file;
    this.path = problems[0]?.path ?? "";
    this.problems = problems;
  }
}
