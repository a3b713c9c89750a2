// Small building blocks shared by every type file: JSON `integer`, RFC 3339 `date-time`,
// and the error shape of http-api.md (`details: [{path, message}]`).
import * as v from "valibot";

/** JSON Schema `integer`: a whole number (1.0 counts, as in JSON). */
export const int = () => v.pipe(v.number(), v.integer("must be an integer"));

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** RFC 3339 section 5.6 `date-time`, as JSON Schema's `format: date-time` checks it:
 *  calendar-valid date, seconds up to 60 (leap second), mandatory offset. */
export function isRfc3339DateTime(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return true;
}

/** A `date-time` string (RFC 3339). */
export const dateTime = () =>
  v.pipe(
    v.string(),
    v.check(isRfc3339DateTime, (issue) => `must be an RFC 3339 date-time, got ${JSON.stringify(issue.input)}`),
  );

export interface IssueDetail {
  path: string;
  message: string;
}

type AnyIssue = v.BaseIssue<unknown>;

/** `a.b[0].c` from a valibot issue path; "" for the root. */
export function issuePath(issue: AnyIssue): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Human sentence for one issue, without the path (the path goes into its own field). */
export function issueMessage(issue: AnyIssue): string {
  if (issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never") {
    return "unknown key (not allowed here)";
  }
  if (issue.type === "strict_object" || issue.type === "loose_object" || issue.type === "object") {
    if (issue.kind === "schema" && issue.received === "undefined" && issue.expected?.startsWith('"')) {
      return "is required";
    }
  }
  // Custom messages (v.check, v.integer("…")) are already sentences.
  if (!issue.message.startsWith("Invalid ")) return issue.message;
  if (issue.type === "picklist" || issue.type === "enum" || issue.type === "literal") {
    const choices = (issue.expected ?? "").replace(/^\(|\)$/g, "").split(" | ").join(", ");
    return `must be one of ${choices}, got ${issue.received}`;
  }
  return `expected ${issue.expected ?? issue.type}, got ${issue.received}`;
}

/** http-api.md error `details`: one entry per problem, path like `a.b[0].c`. */
export function formatIssues(issues: readonly AnyIssue[]): IssueDetail[] {
  return issues.map((issue) => ({ path: issuePath(issue), message: issueMessage(issue) }));
}

/** Thrown by parseOrThrow; carries the http-api.md `details`. */
export class SchemaValidationError extends Error {
  readonly details: IssueDetail[];
  constructor(what: string, details: IssueDetail[]) {
    const first = details[0];
    const where = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : "invalid";
    super(`${what} is invalid: ${where}${details.length > 1 ? ` (and ${details.length - 1} more)` : ""}`);
    this.name = "SchemaValidationError";
    this.details = details;
  }
}

/** Parse or throw SchemaValidationError; `what` names the thing for the message (e.g. "argument cmd_source"). */
export function parseOrThrow<const S extends v.GenericSchema>(schema: S, input: unknown, what = "value"): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new SchemaValidationError(what, formatIssues(result.issues));
}
