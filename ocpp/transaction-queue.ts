// Transaction messages (StartTransaction, StopTransaction, MeterValues of a transaction) go
// through this queue (ocpp.md §8): written to SQLite before they are sent, deleted on their
// CALLRESULT, sent one at a time in order once the CSMS has accepted our BootNotification. A
// message of a transaction whose StartTransaction.conf has not arrived yet carries a local id in
// the store; the CSMS transactionId is put in just before it is sent. CALLERRORs and timeouts are
// retried per TransactionMessageAttempts / TransactionMessageRetryInterval; a lost connection is not
// an attempt: the message waits for the next one.
import type { OcppStore, QueuedMessage } from "../store/index.ts";
import type { OcppConfiguration } from "./configuration.ts";

export interface QueueTransport {
  connected(): boolean;
  call(action: string, payload: unknown): Promise<any>;
}

export class TransactionQueue {
  private ready = false;
  private draining = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly store: OcppStore,
    private readonly transport: QueueTransport,
    private readonly config: OcppConfiguration,
    private readonly onResult: (msg: QueuedMessage, payload: any, result: any) => void,
    private readonly log: (line: string) => void,
  ) {}

  get length(): number {
    return this.store.queue.count();
  }

  enqueue(action: string, payload: unknown, tx: number | null): void {
    this.store.queue.push(action, payload, tx);
    this.kick();
  }

  setReady(ready: boolean): void {
    this.ready = ready;
    if (ready) this.kick();
  }

  /** Resolves when the queue is empty (Reset waits for the StopTransactions). */
  whenEmpty(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  kick(): void {
    if (!this.ready || this.draining || this.retryTimer) return;
    this.draining = true;
    void this.drain().finally(() => {
      this.draining = false;
      if (this.length === 0) for (const w of this.waiters.splice(0)) w();
      // A reconnect that happened while the last call was still failing found us busy: go on now.
      else if (this.ready && this.transport.connected() && !this.retryTimer) setTimeout(() => this.kick(), 100);
    });
  }

  /** The payload as it goes on the wire, or null when it can never be sent (its transaction is unknown to the CSMS). */
  private wirePayload(msg: QueuedMessage): any | null {
    const payload = { ...(msg.payload as Record<string, unknown>) };
    if (msg.action === "StartTransaction" || msg.tx === null) return payload;
    const row = this.store.transactions.byLocal(msg.tx);
    if (!row || row.csms_id === null) return null;
    return { ...payload, transactionId: row.csms_id };
  }

  private async drain(): Promise<void> {
    while (this.ready && this.transport.connected()) {
      const msg = this.store.queue.all()[0];
      if (!msg) return;
      const payload = this.wirePayload(msg);
      if (payload === null) {
        this.log(`ocpp queue: dropping ${msg.action} #${msg.id}: its StartTransaction never got a transactionId`);
        this.store.queue.remove(msg.id);
        continue;
      }
      let result: any;
      try {
        result = await this.transport.call(msg.action, payload);
      } catch (err) {
        if (!this.transport.connected()) return; // sent again after the reconnect
        const attempts = msg.attempts + 1;
        const max = Math.max(1, this.config.int("TransactionMessageAttempts"));
        if (attempts >= max) {
          this.log(`ocpp queue: giving up ${msg.action} #${msg.id} after ${attempts} attempt(s): ${(err as Error).message}`);
          this.store.queue.remove(msg.id);
          this.onResult(msg, payload, null);
          continue;
        }
        this.store.queue.setAttempts(msg.id, attempts);
        const wait = this.config.int("TransactionMessageRetryInterval") * attempts * 1000;
        this.log(`ocpp queue: ${msg.action} #${msg.id} failed (${(err as Error).message}); attempt ${attempts + 1} in ${wait / 1000} s`);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.kick();
        }, wait);
        return;
      }
      this.store.queue.remove(msg.id);
      this.onResult(msg, payload, result);
    }
  }

  stop(): void {
    this.ready = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
