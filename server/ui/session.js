// session.js - who is signed in, and every call to the API.
//
// The credential (a JWT from the identity provider, or a pasted management
// token) lives in sessionStorage only: never in a URL, a cookie or
// localStorage. localStorage keeps only the last account and cluster ids,
// which are not secrets. Sign-in through the identity provider is the OAuth
// 2.0 authorization-code flow with PKCE (S256) and state; the verifier and
// state wait in sessionStorage during the round trip, and the code is taken
// out of the address bar as soon as it is read.

const CRED = "mgmtd.credential";
const PENDING = "mgmtd.signin";
const ACCOUNT = "mgmtd.account";
const CLUSTER = "mgmtd.cluster";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onSignedOut = () => {};

// Called with a message when the credential stops working (a 401).
export function whenSignedOut(f) {
  onSignedOut = f;
}

export function credential() {
  try {
    return JSON.parse(sessionStorage.getItem(CRED) || "null");
  } catch {
    return null;
  }
}

function setCredential(c) {
  sessionStorage.setItem(CRED, JSON.stringify(c));
}

export function signOut() {
  sessionStorage.removeItem(CRED);
  sessionStorage.removeItem(PENDING);
}

export function savedAccount() {
  return localStorage.getItem(ACCOUNT) || "";
}

export function savedCluster() {
  return localStorage.getItem(CLUSTER) || "";
}

export function saveCluster(id) {
  localStorage.setItem(CLUSTER, id);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function checkAccount(account) {
  const a = account.trim().toLowerCase();
  if (!UUID.test(a)) throw new Error("Account ID: the UUID of your account (account_id in an influxctl profile).");
  return a;
}

// The claims of a JWT, unverified (mgmtd verifies it); null when it is not one.
export function jwtClaims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

export function signInWithToken(account, token) {
  const t = token.trim();
  if (!t.startsWith("M.V1.")) throw new Error("Management token: it starts with M.V1.");
  const a = checkAccount(account);
  localStorage.setItem(ACCOUNT, a);
  setCredential({ kind: "token", value: t, account: a });
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri() {
  return `${location.origin}/ui/`;
}

async function discover(issuer) {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let resp;
  try {
    resp = await fetch(url, { credentials: "omit", cache: "no-store" });
  } catch {
    throw new Error(`Cannot reach the identity provider's discovery document at ${url} (network error).`);
  }
  if (!resp.ok) throw new Error(`The identity provider answered ${resp.status} for ${url}.`);
  const doc = await resp.json();
  if (!doc.authorization_endpoint || !doc.token_endpoint)
    throw new Error("The identity provider's discovery document names no authorization or token endpoint.");
  return doc;
}

// Goes to the identity provider's sign-in page; comes back to /ui/ with a code.
export async function beginSignIn(config, account) {
  const a = checkAccount(account);
  if (!crypto.subtle) throw new Error("Signing in needs a secure page: https://, or http:// on localhost.");
  const doc = await discover(config.issuer);
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, account: a, tokenEndpoint: doc.token_endpoint }));
  localStorage.setItem(ACCOUNT, a);
  const q = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scopes,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (config.audience) q.set("audience", config.audience);
  location.assign(`${doc.authorization_endpoint}?${q}`);
}

// On return from the identity provider: trades the code for a JWT. Returns
// true when it signed in, false when this was no return; throws with a
// sentence on failure. The query string leaves the address bar either way.
export async function finishSignIn(config) {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return false;
  history.replaceState(null, "", `${location.pathname}${location.hash}`);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  if (q.has("error"))
    throw new Error(`The identity provider refused the sign-in: ${q.get("error_description") || q.get("error")}.`);
  if (!pending || pending.state !== q.get("state"))
    throw new Error("The sign-in came back with an unknown state (another tab, or an old link): sign in again.");
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code: q.get("code"),
    redirect_uri: redirectUri(),
    client_id: config.clientId,
    code_verifier: pending.verifier,
  });
  let resp;
  try {
    resp = await fetch(pending.tokenEndpoint, { method: "POST", body, credentials: "omit", cache: "no-store" });
  } catch {
    throw new Error("Cannot reach the identity provider's token endpoint (network error).");
  }
  const answer = await resp.json().catch(() => ({}));
  if (!resp.ok)
    throw new Error(`The identity provider did not issue a token: ${answer.error_description || answer.message || answer.error || resp.status}.`);
  // mgmtd takes the access token when it is a JWT; some providers put the JWT in id_token only.
  const jwt = jwtClaims(answer.access_token || "") ? answer.access_token : answer.id_token;
  const claims = jwtClaims(jwt || "");
  if (!claims) throw new Error("The identity provider's answer holds no JWT that mgmtd could check.");
  setCredential({ kind: "jwt", value: jwt, account: pending.account, exp: claims.exp, iss: claims.iss || "", sub: claims.sub, email: claims.email || "" });
  return true;
}

// The seconds left on a JWT credential (Infinity for a management token).
export function secondsLeft(c) {
  if (!c || c.kind !== "jwt" || !c.exp) return Infinity;
  return c.exp - Date.now() / 1000;
}

export function accountPath(suffix = "") {
  const c = credential();
  return `/api/v0/accounts/${encodeURIComponent(c.account)}${suffix}`;
}

export function clusterPath(cluster, suffix = "") {
  return accountPath(`/clusters/${encodeURIComponent(cluster)}${suffix}`);
}

export function segment(name) {
  return encodeURIComponent(String(name));
}

// Calls the API with the credential; resolves with the JSON answer (null
// for 204). Every failure is an ApiError with the API's own message, or a
// sentence saying that the network failed; a 401 also signs out.
export async function api(method, path, body) {
  return (await call(method, path, body)).data;
}

// One page of a list read with mgmtd's paging extension (docs/api.md:
// ?limit=N, then the path of the next page in the answer's Link header,
// rel="next", RFC 8288): {items, next}, next null at the end of the list.
export async function apiPage(path) {
  const { data, resp } = await call("GET", path);
  return { items: data, next: nextPage(resp.headers.get("Link"), path) };
}

// The rel="next" target of a Link header, as a path on this origin; only a
// page of the same list (same origin, same path) is followed, so that the
// credential never goes elsewhere.
function nextPage(header, path) {
  if (!header) return null;
  for (const link of header.split(/,(?=\s*<)/)) {
    const m = link.match(/^\s*<([^>]*)>(.*)$/);
    if (!m || !/;\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2])) continue;
    const base = new URL(path, location.origin);
    const next = new URL(m[1], base);
    if (next.origin === base.origin && next.pathname === base.pathname) return next.pathname + next.search;
  }
  return null;
}

async function call(method, path, body) {
  const c = credential();
  if (!c) throw new ApiError(401, "You are signed out.");
  const headers = { Authorization: `Bearer ${c.value}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, "Cannot reach mgmtd: the network request failed. Check that the server is running and try again.");
  }
  let text;
  try {
    text = await resp.text();
  } catch {
    // mgmtd closes the connection when it fails in the middle of an answer
    throw new ApiError(0, "mgmtd's answer was cut off (the connection closed before its end): try again.");
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (resp.ok && text && data === null) throw new ApiError(resp.status, `mgmtd answered ${resp.status} with a body that is not JSON.`);
  if (!resp.ok) {
    const message = data && typeof data.message === "string" ? data.message : `mgmtd answered ${resp.status} ${resp.statusText}`;
    if (resp.status === 401) {
      signOut();
      onSignedOut(`You were signed out: ${message}.`);
    }
    throw new ApiError(resp.status, message);
  }
  return { data, resp };
}
