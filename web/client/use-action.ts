// Runs one button's API call and keeps its outcome for the panel's result line: what was asked,
// and either the result or the server's refusal in its own words.
import { useState } from "preact/hooks";

export interface ActionOutcome {
  label: string;
  ok: boolean;
  text: string;
  at: number;
}

export type Act = (label: string, call: () => Promise<unknown>) => Promise<void>;

export function useAction(): { busy: string | null; outcome: ActionOutcome | null; act: Act } {
  const [busy, setBusy] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);
  const act: Act = async (label, call) => {
    setBusy(label);
    try {
      const body = await call();
      const result = body !== null && typeof body === "object" && "result" in body ? (body as { result: unknown }).result : body;
      setOutcome({ label, ok: result !== false, text: result === undefined ? "done" : JSON.stringify(result), at: Date.now() });
    } catch (err) {
      setOutcome({ label, ok: false, text: err instanceof Error ? err.message : String(err), at: Date.now() });
    } finally {
      setBusy(null);
    }
  };
  return { busy, outcome, act };
}
