// app.js - the Admin UI's start: configuration, sign-in, the header, and the
// router from the address's #/path to a page (pages.js).

import { field, h, visible } from "./dom.js";
import * as pages from "./pages.js";
import {
  api,
  accountPath,
  beginSignIn,
  credential,
  finishSignIn,
  jwtClaims,
  saveCluster,
  savedAccount,
  savedCluster,
  secondsLeft,
  signInWithToken,
  signOut,
  whenSignedOut,
} from "./session.js";

// What each principal may do: r read, c create, u update, d delete/revoke,
// s only its own (CONTRACT 2 and 5). The server decides; this only chooses
// what to offer.
const RIGHTS = {
  admin: { mgmt: "rcd", users: "rcud", clusters: "r", dbs: "rcud", dbtokens: "rcud", invites: "rcd" },
  member: { mgmt: "", users: "s", clusters: "r", dbs: "r", dbtokens: "rc", invites: "" },
  auditor: { mgmt: "r", users: "r", clusters: "r", dbs: "r", dbtokens: "r", invites: "r" },
  token: { mgmt: "rd", users: "rcud", clusters: "r", dbs: "rcud", dbtokens: "rcud", invites: "rcd" },
};

const NAV = [
  { hash: "#/management-tokens", label: "Management tokens", res: "mgmt" },
  { hash: "#/databases", label: "Databases", res: "dbs" },
  { hash: "#/database-tokens", label: "Database tokens", res: "dbtokens" },
  { hash: "#/cluster", label: "Cluster", res: "clusters" },
  { hash: "#/users", label: "Users", res: "users" },
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const notice = document.getElementById("notice");
const problem = document.getElementById("problem");

let config = null;
let ctx = null;
let expiryTimer = null;

// The two live regions stay in the page (empty ones take no room), so that
// what appears in them is announced. Messages may quote stored text: shown
// as text is (dom.js, visible).
function say(box, text) {
  box.textContent = text ? visible(text) : "";
}

function notify(text) {
  say(problem, "");
  notice.classList.remove("neutral");
  say(notice, text);
}

function fail(err) {
  say(notice, "");
  say(problem, err.message || String(err));
}

// Runs f, showing its failure as the API's message (never swallowed).
async function run(f) {
  try {
    return await f();
  } catch (e) {
    if (e.status !== 401) fail(e);
    return undefined;
  }
}

// ---- sign-in ----

// message: why the sign-in page shows, as a problem (red) unless neutral, for
// what the person asked for (signing out is not an error).
function showSignIn(message, neutral = false) {
  ctx = null;
  clearTimeout(expiryTimer);
  nav.hidden = true;
  who.hidden = true;
  who.replaceChildren();
  notice.classList.toggle("neutral", neutral);
  say(notice, neutral ? message : "");
  say(problem, neutral ? "" : message || "");
  const heading = h("h1", { tabindex: "-1" }, "Sign in");
  const account = field({
    label: "Account ID",
    name: "account",
    value: savedAccount(),
    required: true,
    hint: "The UUID of your account: account_id in an influxctl profile.",
    attrs: { autocomplete: "off", spellcheck: "false" },
  });
  const accountValue = () => account.querySelector("input").value;
  const parts = [heading, account];
  if (config.signIn) {
    const idpForm = h(
      "form",
      { class: "card", id: "idp-sign-in" },
      h("h2", null, "With your identity provider"),
      h("p", null, `Signs in at ${new URL(config.signIn.issuer).host}${config.signIn.devIdp ? " (the built-in dev identity provider, a test device)" : ""}.`),
      h("button", { type: "submit", class: "primary" }, "Sign in with the identity provider")
    );
    idpForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await beginSignIn(config.signIn, accountValue());
      } catch (e) {
        fail(e);
      }
    });
    parts.push(idpForm);
  }
  const tokenInput = h("input", { id: "token-input", name: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true });
  const tokenForm = h(
    "form",
    { class: "card", id: "token-sign-in" },
    h("h2", null, "With a management token"),
    h("div", { class: "field" }, h("label", { for: "token-input" }, "Management token"), tokenInput),
    h("button", { type: "submit" }, "Sign in with the token")
  );
  tokenForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      signInWithToken(accountValue(), tokenInput.value);
      tokenInput.value = "";
      await start();
    } catch (e) {
      fail(e);
    }
  });
  parts.push(tokenForm);
  main.replaceChildren(...parts);
  document.title = "Sign in - mgmtd Admin";
  heading.focus();
}

// ---- the signed-in shell ----

// Who the credential stands for: a management token, or the user whose
// identity (idpIssuer and idpSubject) the JWT names, else whose email it has.
// Users record the dev IdP as "dev_idp", others by their issuer URL.
async function whoAmI(cred) {
  if (cred.kind === "token") return { kind: "token", group: "token", label: "a management token" };
  const users = await api("GET", accountPath("/users"));
  const email = (cred.email || "").toLowerCase();
  const issuer = config.signIn && config.signIn.devIdp ? "dev_idp" : cred.iss;
  const me =
    users.find((u) => u.idpSubject && u.idpSubject === cred.sub && u.idpIssuer === issuer) ||
    users.find((u) => !u.idpSubject && u.email.toLowerCase() === email) ||
    (users.length === 1 ? users[0] : null);
  const group = me ? me.group : "member";
  return { kind: "jwt", group, userId: me && me.id, email: me ? me.email : cred.email, label: `${me ? me.email : cred.email} (${group})` };
}

function renderHeader() {
  nav.replaceChildren(
    h(
      "ul",
      null,
      NAV.filter((n) => ctx.can(n.res, "r")).map((n) => h("li", null, h("a", { href: n.hash, "data-nav": n.hash }, n.label)))
    )
  );
  nav.hidden = false;
  const select = h(
    "select",
    { id: "cluster-select" },
    ctx.clusters.map((c) => h("option", { value: c.id, selected: c.id === ctx.cluster }, c.name))
  );
  select.addEventListener("change", () => {
    ctx.cluster = select.value;
    saveCluster(ctx.cluster);
    route();
  });
  const signOutButton = h(
    "button",
    {
      type: "button",
      id: "sign-out",
      onclick: () => {
        signOut();
        showSignIn("You are signed out.", true);
      },
    },
    "Sign out"
  );
  who.replaceChildren(
    ...[
      h("span", { class: "account" }, "Account ", h("code", null, ctx.account)),
      ctx.clusters.length && h("span", null, h("label", { for: "cluster-select" }, "Cluster "), select),
      h("span", { id: "signed-in-as" }, `Signed in as ${ctx.me.label}`),
      signOutButton,
    ].filter(Boolean)
  );
  who.hidden = false;
}

function markNav(hash) {
  for (const a of nav.querySelectorAll("a")) {
    if (hash.startsWith(a.dataset.nav)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function start() {
  const cred = credential();
  if (!cred) return showSignIn();
  if (secondsLeft(cred) <= 0) {
    signOut();
    return showSignIn("Your sign-in has expired: sign in again.");
  }
  try {
    const clusters = await api("GET", accountPath("/clusters"));
    const me = await whoAmI(cred);
    const rights = RIGHTS[me.group] || RIGHTS.member;
    const mayMint = me.kind === "token" && config.tokensMayMint;
    const cluster = clusters.find((c) => c.id === savedCluster()) || clusters[0];
    ctx = {
      config,
      main,
      me,
      account: cred.account,
      clusters,
      cluster: cluster ? cluster.id : "",
      can: (res, op) => (rights[res] || "").includes(op) || (op === "r" && (rights[res] || "").includes("s")) || (mayMint && res === "mgmt" && op === "c"),
      who: () => (me.kind === "token" ? "a management token" : me.group === "member" ? "a member" : `an ${me.group}`),
      clusterName: () => (clusters.find((c) => c.id === ctx.cluster) || { name: ctx.cluster || "(none)" }).name,
      notify,
      run,
    };
  } catch (e) {
    if (e.status === 401) return undefined; // whenSignedOut shows the sign-in page
    signOut();
    return showSignIn(`Signing in to account ${cred.account} failed: ${e.message}.`);
  }
  const left = secondsLeft(cred);
  if (Number.isFinite(left))
    expiryTimer = setTimeout(() => {
      signOut();
      showSignIn("Your sign-in has expired: sign in again.");
    }, Math.max(0, left * 1000));
  renderHeader();
  return route();
}

const ROUTES = [
  [/^#\/management-tokens$/, (c) => pages.managementTokens(c), "mgmt"],
  [/^#\/databases$/, (c) => pages.databases(c), "dbs"],
  [/^#\/databases\/([^/]+)\/tables$/, (c, m) => pages.tables(c, decodeURIComponent(m[1])), "dbs"],
  [/^#\/database-tokens$/, (c) => pages.databaseTokens(c), "dbtokens"],
  [/^#\/cluster$/, (c) => pages.cluster(c), "clusters"],
  [/^#\/users$/, (c) => pages.users(c, "users"), "users"],
  [/^#\/users\/invitations$/, (c) => pages.users(c, "invitations"), "users"],
];

async function route() {
  if (!ctx) return;
  const hash = location.hash;
  if (!hash.startsWith("#/")) {
    if (!hash) location.replace("#/databases");
    return;
  }
  const found = ROUTES.map(([re, f, res]) => [hash.match(re), f, res]).find(([m]) => m);
  say(problem, "");
  say(notice, "");
  if (!found || !ctx.can(found[2], "r")) {
    markNav("");
    main.replaceChildren(h("h1", { tabindex: "-1" }, "Not here"), h("p", null, found ? `As ${ctx.who()}, you cannot see this page.` : "No such page."));
    main.querySelector("h1").focus();
    return;
  }
  markNav(hash);
  if (!ctx.cluster && ["dbs", "dbtokens", "clusters"].includes(found[2])) {
    main.replaceChildren(h("h1", { tabindex: "-1" }, "No cluster"), h("p", null, "This account has no cluster yet."));
    return;
  }
  await run(() => found[1](ctx, found[0]));
}

async function boot() {
  whenSignedOut((message) => showSignIn(message));
  // A dialog opening starts a new action: what earlier ones said is done with.
  document.addEventListener("mgmtd:action", () => {
    if (!ctx) return;
    say(notice, "");
    say(problem, "");
  });
  // The skip link moves the focus without touching the #/ route.
  document.querySelector(".skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    main.focus();
  });
  try {
    const resp = await fetch("config.json", { cache: "no-store", credentials: "omit" });
    if (!resp.ok) throw new Error(`mgmtd answered ${resp.status} for the UI's configuration.`);
    config = await resp.json();
  } catch (e) {
    main.replaceChildren(h("h1", null, "mgmtd Admin"));
    return fail(new Error(`Cannot load the UI's configuration: ${e.message}`));
  }
  try {
    if (config.signIn && (await finishSignIn(config.signIn))) {
      const c = credential();
      if (!jwtClaims(c.value)) throw new Error("The sign-in gave no JWT.");
    }
  } catch (e) {
    return showSignIn(e.message);
  }
  window.addEventListener("hashchange", () => route());
  return start();
}

boot();
