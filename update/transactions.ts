// Which EVSEs have a transaction open, from their session_event publications: an update restarts
// the program only when none has (or when the request forces it).
export class TransactionWatch {
  readonly #active = new Set<number>();
  #idle: (() => void)[] = [];

  /** Feed every publication of EVSE `index` (replayed history first, then live). */
  observe(index: number, name: string, value: unknown): void {
    if (name !== "session_event" || typeof value !== "object" || value === null) return;
    const event = (value as { event?: unknown }).event;
    if (event === "TransactionStarted") this.#active.add(index);
    else if (event === "TransactionFinished" && this.#active.delete(index) && this.#active.size === 0) {
      const waiting = this.#idle;
      this.#idle = [];
      for (const resolve of waiting) resolve();
    }
  }

  /** EVSE indexes with an open transaction, ascending. */
  active(): number[] {
    return [...this.#active].sort((a, b) => a - b);
  }

  /** Resolves once no transaction is open (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
