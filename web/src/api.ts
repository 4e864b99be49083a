// The REST API as the UI uses it: every call goes to /api2/extjs (always a JSON envelope with
// per-field errors), the ticket travels in its HttpOnly cookie and writes carry the CSRF token
// from the login. A 401 means the session ended: listeners show the login again without
// unmounting the page, so what a form holds survives a re-login.

export type Params = Record<string, string | number | boolean | string[] | undefined | null>;

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Envelope<T> {
  success: boolean;
  status?: number;
  data: T;
  message?: string;
  errors?: Record<string, string>;
  total?: number;
}

export interface Session {
  username: string;
  csrf: string;
  ticketInfo: string;
}

const kSessionKey = "cairn-session";
let session: Session | null = loadSession();
const expiredListeners = new Set<() => void>();

function loadSession(): Session | null {
  try {
    const text = sessionStorage.getItem(kSessionKey);
    return text ? (JSON.parse(text) as Session) : null;
  } catch {
    return null;
  }
}

export function currentSession(): Session | null {
  return session;
}

function setSession(next: Session | null) {
  session = next;
  if (next) sessionStorage.setItem(kSessionKey, JSON.stringify(next));
  else sessionStorage.removeItem(kSessionKey);
}

export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

function query(params: Params): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) {
      for (const item of value) search.append(key, item);
      continue;
    }
    search.set(key, typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function cleaned(params: Params): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out;
}

// Calls `method path` (below /api2) and resolves to its data; rejects with an ApiError.
export async function call<T>(method: string, path: string, params: Params = {}): Promise<T> {
  return (await callFull<T>(method, path, params)).data;
}

// As call, with the envelope's extra members (e.g. "total").
export async function callFull<T>(
  method: string,
  path: string,
  params: Params = {},
): Promise<Envelope<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let url = `/api2/extjs${path}`;
  let body: string | undefined;
  if (method === "GET") {
    url += query(params);
  } else {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(cleaned(params));
    if (session) headers["CSRFPreventionToken"] = session.csrf;
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "same-origin" });
  } catch (error) {
    throw new ApiError(`The server cannot be reached (${String(error)}).`, 0);
  }
  let envelope: Envelope<T>;
  try {
    envelope = (await response.json()) as Envelope<T>;
  } catch {
    throw new ApiError(`The server answered ${response.status} ${response.statusText}.`, response.status);
  }
  const status = envelope.status ?? response.status;
  if (!envelope.success) {
    if (status === 401 && path !== "/access/ticket") {
      for (const listener of [...expiredListeners]) listener();
    }
    throw new ApiError(envelope.message ?? `Request failed (${status}).`, status, envelope.errors ?? {});
  }
  return envelope;
}

interface TicketData {
  username: string;
  CSRFPreventionToken: string;
  "ticket-info": string;
}

// Logs in; the server sets the ticket cookie.
export async function login(username: string, password: string): Promise<Session> {
  const data = await call<TicketData>("POST", "/access/ticket", {
    username,
    password,
    "http-only": true,
  });
  const next = { username: data.username, csrf: data.CSRFPreventionToken, ticketInfo: data["ticket-info"] };
  setSession(next);
  return next;
}

// Renews the ticket before it expires (tickets live two hours).
export async function renew(): Promise<void> {
  if (!session) return;
  await login(session.username, session.ticketInfo);
}

export async function logout(): Promise<void> {
  try {
    await call("DELETE", "/access/ticket");
  } finally {
    setSession(null);
  }
}

// Forgets the session without asking the server (it has ended there already).
export function dropSession() {
  setSession(null);
}
