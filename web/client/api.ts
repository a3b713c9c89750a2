// The page's only way to the server: every call carries the token from sessionStorage as
// `Authorization: Bearer`, and a 401 flips one shared flag the header listens to, so the page
// asks for the token instead of showing half-broken panels.
const TOKEN_KEY = "evse-manager.api-token";

type AuthListener = (needed: boolean) => void;
const listeners = new Set<AuthListener>();
let authNeeded = false;

export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function setToken(token: string): void {
  if (token === "") sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
  setAuthNeeded(false);
}

export function onAuthNeeded(listener: AuthListener): () => void {
  listeners.add(listener);
  listener(authNeeded);
  return () => listeners.delete(listener);
}

function setAuthNeeded(needed: boolean): void {
  if (needed === authNeeded) return;
  authNeeded = needed;
  for (const l of listeners) l(needed);
}

export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = getToken();
  return token === "" ? extra : { ...extra, authorization: `Bearer ${token}` };
}

/** A refusal of the API, with the contract's error body turned into one readable sentence. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

export function noteUnauthorized(status: number): void {
  if (status === 401) setAuthNeeded(true);
}

export async function api<T = unknown>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const hasBody = init.body !== undefined;
  const res = await fetch(path, {
    method: init.method ?? (hasBody ? "POST" : "GET"),
    headers: authHeaders(hasBody ? { "content-type": "application/json" } : {}),
    body: hasBody ? JSON.stringify(init.body) : undefined,
    cache: "no-store",
  });
  noteUnauthorized(res.status);
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const err = body as { error?: string; message?: string; details?: { path: string; message: string }[] } | null;
    const detail = err?.details?.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
    const message = err?.message ?? `HTTP ${res.status}`;
    throw new ApiRequestError(res.status, err?.error ?? String(res.status), detail && !message.includes(detail) ? `${message} (${detail})` : message);
  }
  return body as T;
}

export const evsePath = (index: number, rest: string): string => `/api/v1/evses/${index}/${rest}`;
