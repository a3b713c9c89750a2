// MinimumStatusDuration (OCPP 1.6 §9.1.19): a connector's status is reported only once it has been
// stable for that many seconds, so a connector that passes through a status briefly (Finishing for a
// moment, a short SuspendedEV) does not flood the CSMS. Each change restarts the connector's wait;
// when it ends, the status then in force is sent, stamped with the time it began (libocpp keeps one
// timer per connector the same way). 0 (the default) reports every change at once. Full reports
// (after BootNotification is Accepted, TriggerMessage) are never held back.

export class StatusStability {
  /** connector → the status key seen last and since when (ms). */
  private readonly since = new Map<number, { key: string; at: number }>();
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly minimumMs: () => number,
    private readonly now: () => number,
    /** Called when a held connector's wait ends: look again and send if still different. */
    private readonly recheck: (connector: number) => void,
  ) {}

  /** Records the connector's current status `key`; returns the timestamp to send it with if it may
   *  be sent now (a full report: now; a change: when it began), or null when it must be held (a
   *  recheck is then scheduled). */
  ready(connector: number, key: string, force: boolean): number | null {
    const now = this.now();
    let seen = this.since.get(connector);
    if (seen?.key !== key) this.since.set(connector, (seen = { key, at: now }));
    this.cancel(connector);
    const min = this.minimumMs();
    const stableFor = now - seen.at;
    if (force) return now;
    if (min <= 0 || stableFor >= min) return seen.at;
    this.timers.set(
      connector,
      setTimeout(() => {
        this.timers.delete(connector);
        this.recheck(connector);
      }, min - stableFor),
    );
    return null;
  }

  /** The status is the one already sent again: nothing is waiting to be reported. */
  cancel(connector: number): void {
    const t = this.timers.get(connector);
    if (t) clearTimeout(t);
    this.timers.delete(connector);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
