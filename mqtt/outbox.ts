// What waits to go to the broker, bounded, so a broker outage or a slow broker costs a fixed
// amount of memory and nothing else (integration.md §3). Two kinds of message:
//
// - "latest" (retained state: status, variables, errors, discovery): only the newest message per
//   topic is kept; a newer one supersedes the queued one (drop-oldest, counted). The number of
//   such topics is fixed by the configuration, so this part is bounded by construction.
// - "ordered" (session events, command results): kept all, in order, up to `maxOrdered`; beyond
//   that new ones are dropped and counted, and the gap is logged once when it closes.
//
// The bridge takes messages with next() while it has room in flight and gives back the ones a
// lost connection left unacknowledged with requeue(), which puts them in front, in their order.

export interface OutMessage {
  topic: string;
  payload: string | Buffer;
  retain: boolean;
  qos: 0 | 1;
  /** MQTT 5 publish properties (correlation data of a command result). */
  properties?: { correlationData?: Buffer };
}

export interface Queued {
  /** Increases by one per accepted message: the order in which they were given. */
  seq: number;
  kind: "latest" | "ordered";
  msg: OutMessage;
}

export type DropReason = "superseded" | "queue_full";

export interface OutboxOptions {
  maxOrdered: number;
  onDrop(reason: DropReason): void;
  log(line: string): void;
}

export class Outbox {
  private seq = 0;
  private readonly latest = new Map<string, Queued>();
  private ordered: Queued[] = [];
  private head = 0;
  /** Ordered messages dropped since the queue was last full. */
  private gap = 0;

  constructor(private readonly options: OutboxOptions) {}

  get size(): number {
    return this.latest.size + this.ordered.length - this.head;
  }

  putLatest(msg: OutMessage): void {
    if (this.latest.delete(msg.topic)) this.options.onDrop("superseded");
    this.latest.set(msg.topic, { seq: ++this.seq, kind: "latest", msg });
  }

  putOrdered(msg: OutMessage): void {
    if (this.ordered.length - this.head >= this.options.maxOrdered) {
      if (this.gap === 0) this.options.log(`WARNING MQTT: outgoing queue full (${this.options.maxOrdered} messages): dropping events until the broker catches up`);
      this.gap++;
      this.options.onDrop("queue_full");
      return;
    }
    if (this.gap > 0) {
      this.options.log(`WARNING MQTT: gap in the event stream: ${this.gap} messages were dropped while the queue was full`);
      this.gap = 0;
    }
    this.ordered.push({ seq: ++this.seq, kind: "ordered", msg });
  }

  /** Ordered messages first (they are the stream a client follows), then the latest state. */
  next(): Queued | undefined {
    if (this.head < this.ordered.length) {
      const q = this.ordered[this.head]!;
      this.ordered[this.head++] = undefined as unknown as Queued;
      if (this.head > 1024 && this.head * 2 > this.ordered.length) {
        this.ordered = this.ordered.slice(this.head);
        this.head = 0;
      }
      return q;
    }
    const first = this.latest.values().next();
    if (first.done) return undefined;
    this.latest.delete(first.value.msg.topic);
    return first.value;
  }

  /** Messages taken but not acknowledged before the connection was lost, back in front. A state
   *  message that has meanwhile been superseded stays dropped. */
  requeue(unacked: Queued[]): void {
    const ordered = unacked.filter((q) => q.kind === "ordered").sort((a, b) => a.seq - b.seq);
    this.ordered = [...ordered, ...this.ordered.slice(this.head)];
    this.head = 0;
    for (const q of unacked) {
      if (q.kind !== "latest") continue;
      if (this.latest.has(q.msg.topic)) this.options.onDrop("superseded");
      else this.latest.set(q.msg.topic, q);
    }
  }
}
