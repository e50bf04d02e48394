// The page's own server (`kiln serve`, same origin), when there is one: what it offers, the
// LLM proxy and the OAuth start. Without it the page runs offline.

const KEY_ITEM = 'kiln-ui/v1/api-key';
const PROBE_TIMEOUT_MS = 1500;

/** The API key the person entered (kept in sessionStorage: this tab only). */
export function apiKey() {
  try {
    return sessionStorage.getItem(KEY_ITEM) || '';
  } catch {
    return '';
  }
}

/** Remembers (or, when empty, forgets) the API key for this tab. */
export function setApiKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_ITEM, key);
    else sessionStorage.removeItem(KEY_ITEM);
  } catch {
    // sessionStorage blocked: the key then lives only as long as this page.
  }
}

function headers() {
  const h = { 'Content-Type': 'application/json' };
  const key = apiKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

/**
 * What the page's own server offers: its `kiln-server.json` when that says `kiln serve` (`{
 * server, version, models, sign_in, api_keys }`), else null (plain static hosting serves the
 * site's own file, which says there is no server; an unreachable server or a slow answer
 * counts as none). A file every host has, so an offline load logs no failed request.
 */
export async function probe() {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
  try {
    const r = await fetch('kiln-server.json', { cache: 'no-store', signal: ctl.signal });
    const body = r.ok ? await r.json() : null;
    return body && body.server === 'kiln serve' ? body : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Why a request failed, as the proxy's `{"error": {"kind", "message"}}` envelope. */
function failure(kind, message) {
  return { error: { kind, message } };
}

/**
 * Asks `POST /v1/llm/complete` for a completion. Always resolves: with the completion, or
 * with an error envelope the guest understands (it then falls back to its rules).
 * `onAuthProblem(message)` hears about a refused API key.
 */
export async function complete(request, onAuthProblem) {
  let r;
  try {
    r = await fetch('/v1/llm/complete', { method: 'POST', headers: headers(), body: JSON.stringify(request) });
  } catch (e) {
    return failure('unavailable', `the server could not be reached (${e.message})`);
  }
  let body = null;
  try {
    body = await r.json();
  } catch {
    // Not JSON: described below by status.
  }
  if (r.ok && body && typeof body.text === 'string') return body;
  if (r.status === 401 || r.status === 403) {
    const message = `the server refused the API key (HTTP ${r.status}): set it with "Server key"`;
    onAuthProblem(message);
    return failure('invalid-request', message);
  }
  if (body && body.error && typeof body.error.kind === 'string') return body;
  return failure('unavailable', `the LLM proxy answered HTTP ${r.status} without a completion`);
}

/**
 * Starts the real OAuth flow for the pending connection: returns the provider's
 * authorization URL to navigate to. Throws an Error with a message for people; its
 * `notConfigured` is true when the server has no OAuth provider for this integration (it
 * answers 404 `oauth-not-configured`, and keeps the consent simulated for its own sessions
 * too).
 */
export async function startOauth({ provider, state, scopes, returnTo }) {
  let r;
  try {
    r = await fetch('/v1/oauth/start', {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ provider, state, scopes, return_to: returnTo }),
    });
  } catch (e) {
    throw new Error(`the server could not be reached to start the sign-in (${e.message})`);
  }
  let body = null;
  try {
    body = await r.json();
  } catch {
    // Described below.
  }
  if (r.ok && body && typeof body.authorization_url === 'string') return body.authorization_url;
  const why = body && body.error && body.error.message ? body.error.message : `HTTP ${r.status}`;
  const error = new Error(`the server could not start the sign-in with ${provider}: ${why}`);
  error.notConfigured = r.status === 404 && body?.error?.kind === 'oauth-not-configured';
  throw error;
}
