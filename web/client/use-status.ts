// One EVSE's status summary (GET …/{i}/status), polled: the local limit, failsafe and site share
// change without a session event. `set` takes the summary a PUT …/control answered, so a change
// made from this page shows at once.
import { useEffect, useState } from "preact/hooks";
import { api, evsePath } from "./api.ts";
import type { StatusSummary } from "./limit-words.ts";

const POLL_MS = 2000;

export function useStatus(index: number, refreshKey: unknown): { summary: StatusSummary | null; set(s: StatusSummary): void } {
  const [summary, set] = useState<StatusSummary | null>(null);
  useEffect(() => {
    let stopped = false;
    const poll = () =>
      api<StatusSummary>(evsePath(index, "status"))
        .then((s) => !stopped && set(s))
        .catch(() => {});
    void poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [index, refreshKey]);
  return { summary, set };
}
