// Runs one button's API call and keeps its outcome for the panel's result line, in words: what
// happened ("Authorized RFID0001", "Charging paused") or why not ("Stop refused: no transaction"),
// never a raw `null`, `false` or JSON body.
import { useState } from "preact/hooks";
import { ApiRequestError } from "./api.ts";

export interface ActionOutcome {
  ok: boolean;
  text: string;
  at: number;
}

/**
 * What a button says. `done` is the sentence for success; `refused` the one for a `false` result
 * (the commands that answer a boolean); `verb` starts the sentence of a refusal by the server.
 */
export interface ActionWords {
  verb: string;
  done: string;
  refused?: string;
  /** For a boolean result: the value that means it worked (default true). enable_disable answers
   *  the effective enabled state, so a Disable worked when it answers false. */
  success?: boolean;
}

export type Act = (words: ActionWords, call: () => Promise<unknown>) => Promise<void>;

/** The sentence for one outcome; exported for the unit test. */
export function describeOutcome(words: ActionWords, outcome: { result: unknown } | { error: unknown }): { ok: boolean; text: string } {
  if ("error" in outcome) {
    const err = outcome.error;
    if (err instanceof ApiRequestError) {
      if (err.status === 401) return { ok: false, text: `${words.verb} needs the API token` };
      if (err.code === "car_busy") return { ok: false, text: `${words.verb} refused: a car script is running (stop it first)` };
      if (err.code === "not_simulated") return { ok: false, text: `${words.verb} refused: not a simulated board` };
      return { ok: false, text: `${words.verb} refused: ${lowerFirst(err.message)}` };
    }
    return { ok: false, text: `${words.verb} failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const body = outcome.result;
  const result = body !== null && typeof body === "object" && "result" in body ? (body as { result: unknown }).result : body;
  if (typeof result === "boolean" && result !== (words.success ?? true)) return { ok: false, text: `${words.verb} refused: ${words.refused ?? "the charger said no"}` };
  return { ok: true, text: words.done };
}

const lowerFirst = (s: string) => (/^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s);

export function useAction(): { busy: string | null; outcome: ActionOutcome | null; act: Act } {
  const [busy, setBusy] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);
  const act: Act = async (words, call) => {
    setBusy(words.verb);
    let said: { ok: boolean; text: string };
    try {
      said = describeOutcome(words, { result: await call() });
    } catch (error) {
      said = describeOutcome(words, { error });
    }
    setOutcome({ ...said, at: Date.now() });
    setBusy(null);
  };
  return { busy, outcome, act };
}
