// The publication log of one EVSE: every variable the kernel publishes gets the next id (from 1
// per process), is kept as the variable's last value (GET vars, the SSE snapshot), lands in a ring
// buffer (Last-Event-ID replay) and is fanned out to event-stream subscribers. Each subscriber has
// its own bounded queue, so a slow reader never blocks the kernel or other readers: publish() only
// appends to arrays, and a reader that falls 10,000 messages behind is closed.
import { VARIABLE_NAMES, type VariableName } from "../core/kernel-api.ts";

export interface Publication {
  id: number;
  name: VariableName;
  value: unknown;
  /** The SSE message, encoded once and shared by every subscriber. */
  wire: string;
}

export interface PublicationLogOptions {
  /** Replay buffer length; the contract asks for at least 1000. */
  bufferSize?: number;
  /** Unsent messages after which a subscriber is closed. */
  maxUnsent?: number;
}

export function encodeSse(id: number, name: string, value: unknown): string {
  return `id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(value === undefined ? null : value)}\n\n`;
}

/** What one stream wants: the variables to send (null = every one) and whether active errors too. */
export interface StreamFilter {
  variables: ReadonlySet<VariableName> | null;
  errors: boolean;
}

/** `errors`, beside the variables, names the active-error list (not a variable: see StreamFilter). */
export const STREAM_EXTRA_TYPES = ["errors"] as const;

/**
 * `?types=` of the event stream: variable names (and `errors`), comma-separated. Absent = every
 * variable and no errors, i.e. the stream of the contract. Returns the unknown names on failure.
 */
export function parseStreamTypes(raw: string | undefined): { ok: true; filter: StreamFilter } | { ok: false; message: string } {
  if (raw === undefined) return { ok: true, filter: { variables: null, errors: false } };
  const names = raw.split(",").map((n) => n.trim()).filter((n) => n !== "");
  if (names.length === 0) return { ok: false, message: "types: name at least one variable (or errors), comma-separated" };
  const known = [...VARIABLE_NAMES, ...STREAM_EXTRA_TYPES] as readonly string[];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    return { ok: false, message: `types: ${unknown.map((n) => `"${n}"`).join(", ")} ${unknown.length > 1 ? "are not variables" : "is not a variable"} of the evse_manager interface (nor errors)` };
  }
  return { ok: true, filter: { variables: new Set(names.filter((n) => n !== "errors") as VariableName[]), errors: names.includes("errors") } };
}

/** A stream message that is not a publication (the `errors` list): no id, so it moves no Last-Event-ID. */
export interface ExtraMessage {
  id: null;
  name: (typeof STREAM_EXTRA_TYPES)[number];
  value: unknown;
  wire: string;
}

export function encodeExtra(name: ExtraMessage["name"], value: unknown): ExtraMessage {
  return { id: null, name, value, wire: `event: ${name}\ndata: ${JSON.stringify(value)}\n\n` };
}

export class Subscriber {
  private queue: (Publication | ExtraMessage)[] = [];
  private wake: (() => void) | null = null;
  /** Set while a socket write waits for room: only closing ends that wait early. */
  private closeWake: (() => void) | null = null;
  private closedFlag = false;
  private closeListeners: (() => void)[] = [];
  /** Why the stream was closed by the server (overflow), if it was. */
  reason: string | null = null;

  constructor(
    private readonly maxUnsent: number,
    private readonly detach: (s: Subscriber) => void,
    /** Variables this reader wants; null = all. */
    readonly variables: ReadonlySet<VariableName> | null = null,
  ) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  get unsent(): number {
    return this.queue.length;
  }

  push(p: Publication | ExtraMessage): void {
    if (this.closedFlag) return;
    if (p.id !== null && this.variables !== null && !this.variables.has(p.name)) return;
    if (this.queue.length >= this.maxUnsent) {
      this.close(`more than ${this.maxUnsent} unsent messages`);
      return;
    }
    this.queue.push(p);
    this.notify();
  }

  /** Everything queued so far, in publication order; the queue is empty afterwards. */
  take(): (Publication | ExtraMessage)[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }

  /**
   * Resolves true when `write` (a socket write waiting for room) settles, false when the
   * subscriber is closed first (overflow, or the reader went away). Allocates only while the
   * socket is full, and nothing here outlives the wait.
   */
  whileWriting(write: Promise<unknown>): Promise<boolean> {
    if (this.closedFlag) return Promise.resolve(false);
    return new Promise((resolve) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        if (this.closeWake === wake) this.closeWake = null;
        resolve(ok);
      };
      const wake = () => finish(false);
      this.closeWake = wake;
      write.then(
        () => finish(true),
        () => finish(false),
      );
    });
  }

  /** Resolves when a message is queued, the subscriber is closed, or `ms` pass. */
  wait(ms: number): Promise<void> {
    if (this.queue.length > 0 || this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  close(reason: string | null = null): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.reason = reason;
    this.queue = [];
    this.detach(this);
    this.notify();
    const closeWake = this.closeWake;
    this.closeWake = null;
    closeWake?.();
    for (const listener of this.closeListeners) listener();
  }

  /** Called once when the subscriber is closed, by the server or by the reader going away. */
  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

export class PublicationLog {
  private nextId = 1;
  private readonly bufferSize: number;
  private readonly maxUnsent: number;
  /** Ring buffer of the last `bufferSize` publications; `ring[id % bufferSize]`. */
  private readonly ring: (Publication | undefined)[];
  private readonly last = new Map<VariableName, Publication>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly listeners: ((p: Publication) => void)[] = [];
  /** values() as JSON, kept until the next publication: GET …/vars is read far more often. */
  private valuesText: string | null = null;

  constructor(options: PublicationLogOptions = {}) {
    this.bufferSize = options.bufferSize ?? 4096;
    this.maxUnsent = options.maxUnsent ?? 10_000;
    this.ring = new Array(this.bufferSize);
  }

  publish(name: VariableName, value: unknown): Publication {
    const id = this.nextId++;
    const p: Publication = { id, name, value, wire: encodeSse(id, name, value) };
    this.ring[id % this.bufferSize] = p;
    this.last.set(name, p);
    this.valuesText = null;
    for (const s of this.subscribers) s.push(p);
    for (const listener of this.listeners) listener(p);
    return p;
  }

  /** Observers that are not streams (logger, metrics); called synchronously after fan-out. */
  onPublish(listener: (p: Publication) => void): void {
    this.listeners.push(listener);
  }

  /** Id of the newest publication, 0 before the first. */
  get lastId(): number {
    return this.nextId - 1;
  }

  value(name: VariableName): unknown {
    return this.last.has(name) ? this.last.get(name)!.value : null;
  }

  /** All 14 variables, null for those never published. */
  values(): Record<VariableName, unknown> {
    const out = {} as Record<VariableName, unknown>;
    for (const name of VARIABLE_NAMES) out[name] = this.value(name);
    return out;
  }

  /** values() as JSON text, serialized once per publication rather than once per request. */
  valuesJson(): string {
    return (this.valuesText ??= JSON.stringify(this.values()));
  }

  /** The last publication of every variable that has one, in ascending id order. */
  snapshot(): Publication[] {
    return [...this.last.values()].sort((a, b) => a.id - b.id);
  }

  /** Publications with id > `after`, or null when they are no longer (or never were) all in the buffer. */
  since(after: number): Publication[] | null {
    const newest = this.lastId;
    const oldest = Math.max(1, newest - this.bufferSize + 1);
    if (!Number.isSafeInteger(after) || after < oldest - 1 || after > newest) return null;
    const out: Publication[] = [];
    for (let id = after + 1; id <= newest; id++) out.push(this.ring[id % this.bufferSize]!);
    return out;
  }

  /**
   * A new stream subscriber, already holding its first messages: the replay after `lastEventId`
   * when that id can be honoured, a fresh snapshot otherwise. Live publications follow without a
   * gap because nothing can publish between computing the first messages and registering.
   */
  subscribe(lastEventId?: string | null, variables: ReadonlySet<VariableName> | null = null): Subscriber {
    const s = new Subscriber(this.maxUnsent, (x) => this.subscribers.delete(x), variables);
    const replay = lastEventId != null && /^\d+$/.test(lastEventId.trim()) ? this.since(Number(lastEventId.trim())) : null;
    for (const p of replay ?? this.snapshot()) s.push(p);
    this.subscribers.add(s);
    return s;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
