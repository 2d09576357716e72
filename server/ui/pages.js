// pages.js - one function per page. Each renders into ctx.main, loads what
// it shows from the API, and offers only what the signed-in principal may do
// (ctx.can); the API refuses the rest all the same, and its message is shown.

import {
  checks,
  confirmAction,
  dataTable,
  dialog,
  expiryField,
  expiryValue,
  field,
  formatRetention,
  formatTemplate,
  formDialog,
  h,
  newId,
  parseRetention,
  visible,
  when,
} from "./dom.js";
import { accountPath, api, apiPage, clusterPath, segment } from "./session.js";

export const ROLES = {
  admin: "Everything: databases, tables, database tokens, users and invitations, and management tokens.",
  member: "Reads databases, tables and database tokens, and creates database tokens; sees only their own user.",
  auditor: "Reads everything, changes nothing.",
};

// Starts a page: its heading (focused, for keyboard and screen-reader users)
// and a short explanation. Returns the element the page fills.
function page(ctx, title, intro) {
  const heading = h("h1", { tabindex: "-1" }, title);
  const body = h("div", { class: "page" });
  ctx.main.replaceChildren(...[heading, intro && h("p", { class: "intro" }, intro), body].filter(Boolean));
  heading.focus();
  document.title = `${visible(title)} - mgmtd Admin`;
  return body;
}

function readOnlyNote(ctx, what) {
  return h("p", { class: "note" }, `As ${ctx.who()}, you can see ${what} but not change them.`);
}

function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}

function mono(text) {
  return h("code", null, text);
}

function toolbar(...items) {
  return h("div", { class: "toolbar" }, items);
}

function button(label, onclick, cls) {
  return h("button", { type: "button", class: cls, onclick }, label);
}

// Shows a secret once. Closing the dialog removes it from the page and drops
// every reference this code held. note: a sentence more (a rotation's grace).
function secretDialog(kind, answer, note) {
  let secret = answer.accessToken;
  delete answer.accessToken;
  return new Promise((resolve) => {
    let out;
    dialog(
      `Your new ${kind}`,
      (d) => {
        const warnId = newId("warn");
        const status = h("p", { class: "hint", role: "status" });
        // a textarea that wraps anywhere: the whole secret in view, its start too
        out = h("textarea", {
          id: "secret-value",
          class: "secret",
          readonly: true,
          rows: 3,
          spellcheck: "false",
          autocomplete: "off",
          "aria-describedby": warnId,
        });
        out.value = secret;
        secret = null;
        const copy = async () => {
          try {
            await navigator.clipboard.writeText(out.value);
          } catch {
            out.select();
            document.execCommand("copy");
          }
          status.textContent = "Copied to the clipboard.";
        };
        return [
          h("p", { class: "warning", id: warnId }, "Copy it now: it will not be shown again. mgmtd keeps only a hash of it."),
          note ? h("p", { class: "note", id: "secret-note" }, note) : null,
          h("div", { class: "field" }, h("label", { for: "secret-value" }, "Secret"), out),
          status,
          h("div", { class: "buttons" }, button("Copy", copy), button("Close", () => d.close())),
        ];
      },
      {
        onclose: () => {
          out.value = "";
          out = null;
          resolve();
        },
      }
    );
  });
}

// ---- token lifecycle (mgmtd extensions: docs/tokens.md, "Lifecycle") ----

// The rotation of a token at path (".../{tokenId}"): asks for the grace, shows
// the new secret once, and says until when the previous one works.
async function rotateToken(ctx, kind, t, path) {
  const answer = await formDialog(
    `Rotate ${kind}`,
    "Rotate token",
    () => [
      h("p", null, `"${t.description}" (${t.id}) gets a new secret; its id, permissions and expiry stay.`),
      field({
        label: "Grace",
        name: "grace",
        value: "1h",
        required: true,
        hint: "How long the previous secret keeps working while programs switch: 0 (it ends now) up to 7d, such as 10m, 1h or 1d.",
      }),
    ],
    async (form) => {
      let ns;
      try {
        ns = parseRetention(form.elements.grace.value);
      } catch {
        throw new Error("Grace: a duration such as 0, 10m, 1h or 7d.");
      }
      return api("POST", `${path}/rotate`, { graceSeconds: Math.round(ns / 1e9) });
    }
  );
  if (!answer) return false;
  const until = answer.previousSecretExpiresAt;
  await secretDialog(
    kind,
    answer,
    until
      ? ["The previous secret keeps working until ", when(until), ` (${remaining(until)}), then is refused.`]
      : ["The previous secret no longer works."]
  );
  return true;
}

// "in 59 minutes": what is left of a grace, by this browser's clock.
function remaining(iso) {
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  if (s >= 86400) return `about ${Math.round(s / 86400)} day(s) left`;
  if (s >= 3600) return `about ${Math.round(s / 3600)} hour(s) left`;
  return `about ${Math.max(1, Math.round(s / 60))} minute(s) left`;
}

// Suspends or resumes the token at path; no question: each undoes the other.
async function setSuspended(ctx, kind, t, path, suspend) {
  await api("POST", `${path}/${suspend ? "suspend" : "resume"}`);
  ctx.notify(`${kind[0].toUpperCase()}${kind.slice(1)} "${t.description}" ${suspend ? "suspended: it is refused until resumed" : "resumed"}.`);
}

// ---- token lists, a page at a time ----

// Rows a token page shows at once (?limit).
const PAGE_SIZE = 100;

const TOKEN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A token list read a page at a time through mgmtd's paging extension
// (docs/api.md; docs/ui.md, "Long lists"), so that a page shows at once
// whatever the length of the list: the table holds one page in the API's
// order (oldest first), Previous page and Next page move through the list
// (the answer's Link header names the next page), and new filters start
// again at the first page. The newest request wins: an answer that comes
// after a later request's is dropped.
function pagedList(table) {
  let current = null; // the path of the page shown
  let next = null; // the path of the next page, from the answer's Link header
  let before = []; // the paths of the pages before it, nearest last
  let shown = 0; // rows on the page shown
  let asked = 0;
  const status = h("p", { class: "pager-status", role: "status" });
  const prev = button("Previous page", () => show(before[before.length - 1], before.slice(0, -1)));
  const nextButton = button("Next page", () => show(next, [...before, current]));

  const el = h("div", { class: "pager", hidden: true }, prev, nextButton, status);

  // A list of one page shows no pager (as before paging, for most accounts).
  function render() {
    prev.disabled = before.length === 0;
    nextButton.disabled = !next;
    el.hidden = before.length === 0 && !next;
    const from = before.length * PAGE_SIZE + 1;
    status.textContent = shown ? `Tokens ${from}–${from + shown - 1}${next ? "" : ", the last"}` : "No more tokens.";
  }

  async function show(path, pagesBefore) {
    const mine = ++asked;
    prev.disabled = nextButton.disabled = true;
    let page;
    try {
      page = await apiPage(path);
    } catch (e) {
      if (mine !== asked) return; // a later request answers instead
      render();
      throw e;
    }
    if (mine !== asked) return;
    current = path;
    next = page.next;
    before = pagesBefore;
    shown = page.items.length;
    table.update(page.items);
    render();
  }

  return {
    el,
    // The first page of the list at path with the query parameters params (its filters).
    first(path, params) {
      params.set("limit", String(PAGE_SIZE));
      return show(`${path}?${params}`, []);
    },
    // One token found by its whole ID (or none): no pages.
    only(items) {
      ++asked;
      current = null;
      next = null;
      before = [];
      shown = items.length;
      table.update(items);
      render();
    },
    // The page shown, read again (after a change).
    again() {
      return current ? show(current, before) : Promise.resolve();
    },
  };
}

// What a token page's search box asks: a whole token ID is looked up (get),
// other text goes to the list's ?search (description, and the prefix of a
// management token) besides the page's filters (params()). Typing waits for a
// pause before asking.
function tokenSearch(ctx, pager, { listPath, params, get }) {
  let timer = null;
  let lookup = false;
  let asked = 0;
  const input = h("input", { id: "token-search", type: "search", maxlength: 256, autocomplete: "off" });
  async function load() {
    const mine = ++asked;
    clearTimeout(timer);
    const q = input.value.trim();
    lookup = TOKEN_ID.test(q);
    if (!lookup) {
      const query = params();
      if (q) query.set("search", q);
      return pager.first(listPath, query);
    }
    let found = [];
    try {
      found = [await api("GET", get(q.toLowerCase()))];
    } catch (e) {
      if (e.status !== 404 && mine === asked) throw e;
    }
    if (mine === asked) pager.only(found);
    return undefined;
  }
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctx.run(load), 300);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") ctx.run(load); // no need to wait for the pause
  });
  return {
    input,
    load,
    // After a change: the same page (or the same lookup) again.
    again: () => (lookup ? load() : pager.again()),
  };
}

// ---- management tokens ----

export async function managementTokens(ctx) {
  const body = page(
    ctx,
    "Management tokens",
    "Management tokens let programs such as influxctl use the Management API with full access to this account. Only admins signed in through the identity provider create them."
  );
  const inactive = h("input", { id: "show-inactive", type: "checkbox" });
  const table = dataTable({
    caption: "Management tokens",
    empty: "No management token matches.",
    sortKey: "createdAt",
    columns: [
      { key: "id", label: "ID", render: (t) => mono(t.id) },
      { key: "description", label: "Description" },
      { key: "tokenPrefix", label: "Prefix", render: (t) => mono(t.tokenPrefix) },
      { key: "status", label: "Status", render: (t) => badge(t.status) },
      { key: "createdAt", label: "Created", render: (t) => when(t.createdAt) },
      { key: "expiresAt", label: "Expires", render: (t) => (t.expiresAt ? when(t.expiresAt) : "never") },
      { key: "revokedAt", label: "Revoked", render: (t) => when(t.revokedAt) },
      { key: "lastUsedAt", label: "Last used", render: (t) => when(t.lastUsedAt) },
      { key: "previousSecretExpiresAt", label: "Previous secret until", render: (t) => when(t.previousSecretExpiresAt) },
    ],
    actions: ctx.can("mgmt", "d")
      ? (t) =>
          t.status === "active"
            ? [button("Rotate", () => lifecycle(t, "rotate")), button("Suspend", () => lifecycle(t, "suspend")), button(`Revoke`, () => revoke(t), "danger")]
            : t.status === "suspended"
              ? [button("Resume", () => lifecycle(t, "resume")), button(`Revoke`, () => revoke(t), "danger")]
              : null
      : null,
  });
  const pager = pagedList(table);
  const search = tokenSearch(ctx, pager, {
    listPath: accountPath("/management/tokens"),
    params: () => new URLSearchParams(inactive.checked ? {} : { status: "active" }),
    get: (id) => accountPath(`/management/tokens/${segment(id)}`),
  });
  search.input.setAttribute("placeholder", "Description, prefix or ID");

  async function lifecycle(t, verb) {
    const path = accountPath(`/management/tokens/${segment(t.id)}`);
    if (verb === "rotate") {
      if (!(await rotateToken(ctx, "management token", t, path))) return;
    } else {
      await ctx.run(() => setSuspended(ctx, "management token", t, path, verb === "suspend"));
    }
    await ctx.run(search.again);
  }

  async function revoke(t) {
    if (
      await confirmAction(
        "Revoke management token",
        `Revoke the management token "${t.description}" (${t.id})? Every program that uses it is refused from then on.`,
        "Revoke token",
        () => api("DELETE", accountPath(`/management/tokens/${segment(t.id)}`))
      )
    ) {
      ctx.notify(`Management token "${t.description}" revoked.`);
      await ctx.run(search.again);
    }
  }

  async function create() {
    const answer = await formDialog(
      "Create a management token",
      "Create token",
      () => [field({ label: "Description", name: "description", required: true, attrs: { maxlength: 1024 } }), expiryField()],
      async (form) => {
        const c = checks();
        const description = form.elements.description.value;
        c.take(() => {
          if (!description.trim()) throw new Error("Description: say what the token is for.");
        });
        const req = { description };
        const at = c.take(() => expiryValue(form));
        c.done();
        if (at) req.expiresAt = at;
        return api("POST", accountPath("/management/tokens"), req);
      }
    );
    if (answer) {
      await secretDialog("management token", answer);
      await ctx.run(search.again);
    }
  }

  inactive.addEventListener("change", () => ctx.run(search.load));
  const mayCreate = ctx.can("mgmt", "c");
  const createButton = mayCreate
    ? button("Create token", create, "primary")
    : ctx.me.kind === "token"
      ? h(
          "button",
          {
            type: "button",
            class: "primary",
            disabled: true,
            title: "Management tokens may not create management tokens: an admin signed in through the identity provider does.",
          },
          "Create token"
        )
      : null;
  body.append(
    ctx.can("mgmt", "c") || ctx.can("mgmt", "d") ? "" : readOnlyNote(ctx, "management tokens"),
    toolbar(
      h("div", { class: "field inline" }, h("label", { for: "token-search" }, "Search"), search.input),
      h("div", { class: "field inline" }, inactive, h("label", { for: "show-inactive" }, "Show inactive tokens")),
      createButton
    ),
    table.el,
    pager.el
  );
  await search.load();
}

// ---- databases and tables ----

function templateEditor() {
  const rows = h("ol", { class: "template" });
  const legendId = newId("template");
  function addPart() {
    if (rows.children.length >= 8) return;
    const id = newId("part");
    const type = h("select", { id: `${id}-type`, name: "partType" }, ["time", "tag", "bucket"].map((t) => h("option", { value: t }, t)));
    const value = h("input", { id: `${id}-value`, name: "partValue", required: true });
    const buckets = h("input", { id: `${id}-buckets`, name: "partBuckets", type: "number", min: 1, max: 100000, value: "10" });
    const bucketField = h("span", { hidden: true }, h("label", { for: `${id}-buckets` }, "Buckets"), buckets);
    const valueLabel = h("label", { for: `${id}-value` }, "Time format");
    type.addEventListener("change", () => {
      bucketField.hidden = type.value !== "bucket";
      valueLabel.textContent = type.value === "time" ? "Time format" : "Tag name";
    });
    const li = h(
      "li",
      null,
      h("label", { for: `${id}-type` }, "Part"),
      type,
      valueLabel,
      value,
      bucketField,
      button("Remove part", () => li.remove())
    );
    rows.append(li);
  }
  const el = h(
    "fieldset",
    { class: "field", "aria-describedby": `${legendId}-hint` },
    h("legend", { id: legendId }, "Partition template (optional, fixed at creation)"),
    h("p", { class: "hint", id: `${legendId}-hint` }, "Up to 8 parts: a time format such as %Y-%m-%d, tag names, or tag buckets."),
    rows,
    button("Add part", addPart)
  );
  return {
    el,
    // The parts; each invalid one is kept by c (checks()) under its label.
    value(c) {
      const parts = [...rows.children].map((li, i) => {
        const type = li.querySelector("select").value;
        const v = li.querySelector("[name=partValue]").value.trim();
        const label = `Partition template, part ${i + 1} (${type === "time" ? "time format" : "tag name"})`;
        c.take(() => {
          if (!v) throw new Error(`${label}: fill it in, or remove the part.`);
          const bytes = new TextEncoder().encode(v).length;
          if (bytes > 200) throw new Error(`${label}: at most 200 bytes (this one is ${bytes}).`);
        });
        if (type === "bucket") {
          const n = Number(li.querySelector("[name=partBuckets]").value);
          c.take(() => {
            if (!Number.isInteger(n) || n < 1 || n > 100000) throw new Error(`Partition template, part ${i + 1} (buckets): a whole number from 1 to 100000.`);
          });
          return { type, value: { tagName: v, numberOfBuckets: n } };
        }
        return { type, value: v };
      });
      return parts.length ? parts : undefined;
    },
  };
}

function limitsFields(db) {
  return [
    field({
      label: "Retention period",
      name: "retention",
      value: db ? formatRetention(db.retentionPeriod) : "infinite",
      hint: 'A duration such as 30d, 12h, 1mo or 1y; "infinite" keeps data forever.',
    }),
    field({ label: "Maximum tables", name: "maxTables", type: "number", value: db ? db.maxTables : 500, attrs: { min: 1 } }),
    field({
      label: "Maximum columns per table",
      name: "maxColumnsPerTable",
      type: "number",
      value: db ? db.maxColumnsPerTable : 250,
      attrs: { min: 1 },
    }),
  ];
}

// The limits; each invalid one is kept by c (checks()).
function limitsValue(form, c) {
  const n = (name, label) => {
    const v = Number(form.elements[name].value);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: a whole number of at least 1.`);
    return v;
  };
  return {
    retentionPeriod: c.take(() => parseRetention(form.elements.retention.value)),
    maxTables: c.take(() => n("maxTables", "Maximum tables")),
    maxColumnsPerTable: c.take(() => n("maxColumnsPerTable", "Maximum columns per table")),
  };
}

// A name field's value, trimmed; an empty one is kept by c under label.
function nameValue(form, c, label = "Name") {
  const v = form.elements.name.value.trim();
  c.take(() => {
    if (!v) throw new Error(`${label}: fill it in.`);
  });
  return v;
}

export async function databases(ctx) {
  const body = page(ctx, "Databases", `The databases of cluster ${ctx.clusterName()}.`);
  const deleted = h("input", { id: "show-deleted", type: "checkbox" });
  const w = ctx.can("dbs", "u");
  const table = dataTable({
    caption: "Databases",
    empty: "No database.",
    sortKey: "name",
    columns: [
      {
        key: "name",
        label: "Name",
        render: (d) => (deleted.checked ? d.name : h("a", { href: `#/databases/${segment(d.name)}/tables` }, d.name)),
      },
      { key: "retentionPeriod", label: "Retention period", render: (d) => formatRetention(d.retentionPeriod) },
      { key: "maxTables", label: "Max tables" },
      { key: "maxColumnsPerTable", label: "Max columns per table" },
      { key: "partitionTemplate", label: "Partition template", render: (d) => formatTemplate(d.partitionTemplate), sort: (d) => JSON.stringify(d.partitionTemplate || "") },
    ],
    actions: w
      ? (d) =>
          deleted.checked
            ? [button("Undelete", () => undelete(d))]
            : [button("Edit", () => edit(d)), button("Rename", () => rename(d)), button("Delete", () => remove(d), "danger")]
      : null,
  });
  const path = (suffix = "") => clusterPath(ctx.cluster, `/databases${suffix}`);

  async function load() {
    table.update(await api("GET", path(deleted.checked ? "?status=deleted" : "")));
  }

  async function create() {
    const tpl = templateEditor();
    const made = await formDialog(
      "Create a database",
      "Create database",
      () => [field({ label: "Name", name: "name", required: true, hint: "1 to 64 of A-Z a-z 0-9 _ - /, not starting with _." }), limitsFields(null), tpl.el],
      (form) => {
        const c = checks();
        const req = { name: nameValue(form, c), ...limitsValue(form, c), partitionTemplate: tpl.value(c) };
        c.done();
        return api("POST", path(), req);
      }
    );
    if (made) {
      ctx.notify(`Database ${made.name} created.`);
      await ctx.run(load);
    }
  }

  async function edit(d) {
    const done = await formDialog(`Edit database ${d.name}`, "Save", () => limitsFields(d), (form) => {
      const c = checks();
      const req = limitsValue(form, c);
      c.done();
      return api("PATCH", path(`/${segment(d.name)}`), req);
    });
    if (done) {
      ctx.notify(`Database ${d.name} saved.`);
      await ctx.run(load);
    }
  }

  async function rename(d) {
    const done = await formDialog(
      `Rename database ${d.name}`,
      "Rename",
      () => field({ label: "New name", name: "name", value: visible(d.name), required: true }),
      (form) => api("PUT", path(`/${segment(d.name)}/rename`), { name: form.elements.name.value.trim() })
    );
    if (done) {
      ctx.notify(`Database ${d.name} renamed to ${done.name}.`);
      await ctx.run(load);
    }
  }

  async function remove(d) {
    if (
      await confirmAction(
        "Delete database",
        `Delete the database ${d.name}? It can be undeleted from the deleted databases while its name is free.`,
        "Delete database",
        () => api("DELETE", path(`/${segment(d.name)}`))
      )
    ) {
      ctx.notify(`Database ${d.name} deleted.`);
      await ctx.run(load);
    }
  }

  async function undelete(d) {
    await api("PUT", path(`/${segment(d.id)}/undelete`));
    ctx.notify(`Database ${d.name} undeleted.`);
    await load();
  }

  deleted.addEventListener("change", () => ctx.run(load));
  body.append(
    w ? "" : readOnlyNote(ctx, "databases"),
    toolbar(
      h("div", { class: "field inline" }, deleted, h("label", { for: "show-deleted" }, "Show deleted databases")),
      ctx.can("dbs", "c") ? button("Create database", create, "primary") : null
    ),
    table.el
  );
  await load();
}

export async function tables(ctx, dbName) {
  const body = page(ctx, `Tables of ${dbName}`, null);
  const deleted = h("input", { id: "show-deleted-tables", type: "checkbox" });
  const w = ctx.can("dbs", "u");
  const path = (suffix = "") => clusterPath(ctx.cluster, `/databases/${segment(dbName)}/tables${suffix}`);
  const table = dataTable({
    caption: `Tables of ${dbName}`,
    empty: "No table.",
    sortKey: "name",
    columns: [
      { key: "name", label: "Name" },
      { key: "partitionTemplate", label: "Partition template", render: (t) => formatTemplate(t.partitionTemplate), sort: (t) => JSON.stringify(t.partitionTemplate || "") },
      // influxctl table iceberg enable|disable; an mgmtd extension of the API (docs/api.md)
      { key: "icebergExport", label: "Iceberg export", render: (t) => (t.icebergExport ? "Enabled" : "Disabled"), sort: (t) => (t.icebergExport ? 1 : 0) },
    ],
    actions: w
      ? (t) =>
          deleted.checked
            ? [button("Undelete", () => undelete(t))]
            : [
                button(t.icebergExport ? "Disable Iceberg export" : "Enable Iceberg export", () => ctx.run(() => iceberg(t))),
                button("Rename", () => rename(t)),
                button("Delete", () => remove(t), "danger"),
              ]
      : null,
  });

  async function load() {
    table.update(await api("GET", path(deleted.checked ? "?status=deleted" : "")));
  }

  async function create() {
    const tpl = templateEditor();
    const made = await formDialog(
      `Create a table in ${dbName}`,
      "Create table",
      () => [field({ label: "Name", name: "name", required: true }), tpl.el],
      (form) => {
        const c = checks();
        const req = { name: nameValue(form, c), partitionTemplate: tpl.value(c) };
        c.done();
        return api("POST", path(), req);
      }
    );
    if (made) {
      ctx.notify(`Table ${made.name} created.`);
      await ctx.run(load);
    }
  }

  async function rename(t) {
    const done = await formDialog(
      `Rename table ${t.name}`,
      "Rename",
      () => field({ label: "New name", name: "name", value: visible(t.name), required: true }),
      (form) => api("PUT", path(`/${segment(t.name)}/rename`), { name: form.elements.name.value.trim() })
    );
    if (done) {
      ctx.notify(`Table ${t.name} renamed to ${done.name}.`);
      await ctx.run(load);
    }
  }

  async function remove(t) {
    if (await confirmAction("Delete table", `Delete the table ${t.name} of ${dbName}?`, "Delete table", () => api("DELETE", path(`/${segment(t.name)}`)))) {
      ctx.notify(`Table ${t.name} deleted.`);
      await ctx.run(load);
    }
  }

  async function undelete(t) {
    await api("PUT", path(`/${segment(t.id)}/undelete`));
    ctx.notify(`Table ${t.name} undeleted.`);
    await load();
  }

  // No confirmation: the switch is undone by the same button, and mgmtd only records it.
  async function iceberg(t) {
    const on = !t.icebergExport;
    const done = await api("PUT", path(`/${segment(t.name)}/iceberg/${on ? "enable" : "disable"}`));
    ctx.notify(`Iceberg export of table ${done.name} ${done.icebergExport ? "enabled" : "disabled"}.`);
    await load();
  }

  deleted.addEventListener("change", () => ctx.run(load));
  body.append(
    h("p", null, h("a", { href: "#/databases" }, "All databases")),
    toolbar(
      h("div", { class: "field inline" }, deleted, h("label", { for: "show-deleted-tables" }, "Show deleted tables")),
      ctx.can("dbs", "c") ? button("Create table", create, "primary") : null
    ),
    table.el
  );
  await load();
}

// ---- database tokens ----

// Read and write checkboxes for "all databases" and each database.
function permissionsEditor(dbs, current) {
  const has = (action, resource) => (current || []).some((p) => p.action === action && p.resource === resource);
  const resources = ["*", ...dbs.map((d) => d.name)];
  const rows = resources.map((r) => {
    const name = r === "*" ? "All databases" : r;
    const box = (action) => {
      const id = newId("perm");
      return h("td", null, h("input", { type: "checkbox", id, "data-action": action, "data-resource": r, checked: has(action, r), "aria-label": `${action} ${name}` }));
    };
    return h("tr", null, h("th", { scope: "row" }, name), box("read"), box("write"));
  });
  const el = h(
    "fieldset",
    { class: "field" },
    h("legend", null, "Permissions"),
    h(
      "div",
      { class: "table-wrap", role: "region", tabindex: "0", "aria-label": "Permissions" },
      h("table", { class: "compact" }, h("thead", null, h("tr", null, h("th", { scope: "col" }, "Database"), h("th", { scope: "col" }, "Read"), h("th", { scope: "col" }, "Write"))), h("tbody", null, rows))
    )
  );
  return {
    el,
    value() {
      return [...el.querySelectorAll("input[type=checkbox]:checked")].map((c) => ({ action: c.dataset.action, resource: c.dataset.resource }));
    },
  };
}

function permissionsText(perms) {
  if (!perms || !perms.length) return h("span", { class: "muted" }, "none");
  return perms.map((p) => `${p.action} ${p.resource === "*" ? "all databases" : p.resource}`).join(", ");
}

export async function databaseTokens(ctx) {
  const body = page(ctx, "Database tokens", `Database tokens authorize reads and writes of the databases of cluster ${ctx.clusterName()}.`);
  const revoked = h("input", { id: "show-revoked", type: "checkbox" });
  const w = ctx.can("dbtokens", "u");
  const path = (suffix = "") => clusterPath(ctx.cluster, `/tokens${suffix}`);
  const table = dataTable({
    caption: "Database tokens",
    empty: "No database token.",
    sortKey: "createdAt",
    columns: [
      { key: "id", label: "ID", render: (t) => mono(t.id) },
      { key: "description", label: "Description" },
      { key: "permissions", label: "Permissions", render: (t) => permissionsText(t.permissions), sort: (t) => JSON.stringify(t.permissions) },
      { key: "createdAt", label: "Created", render: (t) => when(t.createdAt) },
      { key: "expiresAt", label: "Expires", render: (t) => (t.expiresAt ? when(t.expiresAt) : "never") },
      { key: "revokedAt", label: "Revoked", render: (t) => when(t.revokedAt) },
      { key: "suspendedAt", label: "Suspended", render: (t) => when(t.suspendedAt) },
      { key: "previousSecretExpiresAt", label: "Previous secret until", render: (t) => when(t.previousSecretExpiresAt) },
    ],
    actions: w
      ? (t) =>
          t.revokedAt
            ? null
            : [
                button("Edit", () => edit(t)),
                button("Rotate", () => lifecycle(t, "rotate")),
                t.suspendedAt ? button("Resume", () => lifecycle(t, "resume")) : button("Suspend", () => lifecycle(t, "suspend")),
                button("Revoke", () => revoke(t), "danger"),
              ]
      : null,
  });

  async function lifecycle(t, verb) {
    const p = path(`/${segment(t.id)}`);
    if (verb === "rotate") {
      if (!(await rotateToken(ctx, "database token", t, p))) return;
    } else {
      await ctx.run(() => setSuspended(ctx, "database token", t, p, verb === "suspend"));
    }
    await ctx.run(search.again);
  }

  const pager = pagedList(table);
  const search = tokenSearch(ctx, pager, {
    listPath: path(),
    params: () => new URLSearchParams(revoked.checked ? { includeRevoked: "true" } : {}),
    get: (id) => path(`/${segment(id)}`),
  });
  search.input.setAttribute("placeholder", "Description or ID");
  const liveDatabases = () => api("GET", clusterPath(ctx.cluster, "/databases"));

  async function create() {
    const perms = permissionsEditor(await liveDatabases(), []);
    const answer = await formDialog(
      "Create a database token",
      "Create token",
      () => [field({ label: "Description", name: "description", required: true }), perms.el, expiryField()],
      (form) => {
        const c = checks();
        const req = { description: form.elements.description.value, permissions: perms.value() };
        c.take(() => {
          if (!req.description.trim()) throw new Error("Description: say what the token is for.");
        });
        c.take(() => {
          // mgmtd takes a token without one, but it can neither read nor write anything
          if (!req.permissions.length) throw new Error("Permissions: tick at least one Read or Write box; a token without a permission can do nothing.");
        });
        const at = c.take(() => expiryValue(form));
        c.done();
        if (at) req.expiresAt = at;
        return api("POST", path(), req);
      }
    );
    if (answer) {
      await secretDialog("database token", answer);
      await ctx.run(search.again);
    }
  }

  async function edit(t) {
    const perms = permissionsEditor(await liveDatabases(), t.permissions);
    // The description as shown (escapes for what it must not hold raw); sent
    // only when changed, so that saving permissions never rewrites it.
    const shown = visible(t.description);
    const done = await formDialog(
      "Edit database token",
      "Save",
      () => [field({ label: "Description", name: "description", value: shown, required: true }), perms.el],
      (form) => {
        const req = { permissions: perms.value() };
        if (form.elements.description.value !== shown) req.description = form.elements.description.value;
        return api("PATCH", path(`/${segment(t.id)}`), req);
      }
    );
    if (done) {
      ctx.notify(`Database token "${done.description}" saved.`);
      await ctx.run(search.again);
    }
  }

  async function revoke(t) {
    if (
      await confirmAction(
        "Revoke database token",
        `Revoke the database token "${t.description}" (${t.id})? Reads and writes with it are refused from then on.`,
        "Revoke token",
        () => api("DELETE", path(`/${segment(t.id)}`))
      )
    ) {
      ctx.notify(`Database token "${t.description}" revoked.`);
      await ctx.run(search.again);
    }
  }

  revoked.addEventListener("change", () => ctx.run(search.load));
  body.append(
    ctx.can("dbtokens", "c") ? "" : readOnlyNote(ctx, "database tokens"),
    toolbar(
      h("div", { class: "field inline" }, h("label", { for: "token-search" }, "Search"), search.input),
      h("div", { class: "field inline" }, revoked, h("label", { for: "show-revoked" }, "Show revoked tokens")),
      ctx.can("dbtokens", "c") ? button("Create token", create, "primary") : null
    ),
    table.el,
    pager.el
  );
  await search.load();
}

// ---- cluster ----

export async function cluster(ctx) {
  const body = page(ctx, "Cluster", null);
  const c = await api("GET", accountPath(`/clusters/${segment(ctx.cluster)}`));
  const row = (k, v) => [h("dt", null, k), h("dd", null, v)];
  body.append(
    h("dl", { class: "facts" }, row("ID", mono(c.id)), row("Name", c.name), row("State", badge(c.state)), row("URL", mono(c.url)), row("Created", when(c.createdAt)))
  );
  if (ctx.clusters.length > 1) {
    const t = dataTable({
      caption: "Clusters of the account",
      sortKey: "name",
      columns: [
        { key: "name", label: "Name" },
        { key: "id", label: "ID", render: (x) => mono(x.id) },
        { key: "state", label: "State", render: (x) => badge(x.state) },
        { key: "createdAt", label: "Created", render: (x) => when(x.createdAt) },
      ],
    });
    t.update(ctx.clusters);
    body.append(t.el);
  }
}

// ---- users and invitations ----

function roleField(current) {
  const name = newId("group");
  return h(
    "fieldset",
    { class: "field roles" },
    h("legend", null, "Group"),
    Object.entries(ROLES).map(([g, text]) => {
      const id = `${name}-${g}`;
      return h(
        "div",
        { class: "role" },
        h("input", { type: "radio", name: "group", value: g, id, checked: g === current, "aria-describedby": `${id}-hint` }),
        h("label", { for: id }, g),
        h("p", { class: "hint", id: `${id}-hint` }, text)
      );
    })
  );
}

function chosenRole(form) {
  const g = form.elements.group.value;
  if (!g) throw new Error("Group: choose admin, member or auditor.");
  return g;
}

export async function users(ctx, tab) {
  const body = page(ctx, "Users", null);
  const tabs = [{ id: "users", label: "Users", show: true }, { id: "invitations", label: "Invitations", show: ctx.can("invites", "r") }].filter((t) => t.show);
  const current = tabs.find((t) => t.id === tab) ? tab : "users";
  const list = h("div", { role: "tablist", "aria-label": "Users and invitations", class: "tabs" });
  const panel = h("div", { role: "tabpanel", id: "users-panel", tabindex: "0", "aria-labelledby": `tab-${current}` });
  tabs.forEach((t, i) => {
    const b = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${t.id}`,
        "aria-selected": t.id === current ? "true" : "false",
        "aria-controls": "users-panel",
        tabindex: t.id === current ? "0" : "-1",
        onclick: () => {
          location.hash = t.id === "users" ? "#/users" : "#/users/invitations";
        },
        onkeydown: (ev) => {
          const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
          if (!step) return;
          const next = tabs[(i + step + tabs.length) % tabs.length];
          focusTab = next.id;
          location.hash = next.id === "users" ? "#/users" : "#/users/invitations";
        },
      },
      t.label
    );
    list.append(b);
  });
  body.append(list, panel);
  if (focusTab) {
    document.getElementById(`tab-${focusTab}`)?.focus();
    focusTab = null;
  }
  if (current === "users") await usersTab(ctx, panel);
  else await invitationsTab(ctx, panel);
}

// The tab to focus after the arrow keys moved to it (the page is rebuilt).
let focusTab = null;

async function usersTab(ctx, panel) {
  const w = ctx.can("users", "u");
  const table = dataTable({
    caption: "Users",
    sortKey: "email",
    columns: [
      { key: "email", label: "Email" },
      { key: "name", label: "Name", sort: (u) => `${u.firstName || ""} ${u.lastName || ""}`, render: (u) => [u.firstName, u.lastName].filter(Boolean).join(" ") || h("span", { class: "muted" }, "-") },
      { key: "group", label: "Group", render: (u) => badge(u.group) },
      { key: "idpSubject", label: "IdP subject", render: (u) => (u.idpSubject ? mono(u.idpSubject) : h("span", { class: "muted" }, "-")) },
      { key: "idpIssuer", label: "IdP issuer", render: (u) => (u.idpIssuer ? mono(u.idpIssuer) : h("span", { class: "muted" }, "-")) },
      { key: "createdAt", label: "Created", render: (u) => when(u.createdAt) },
    ],
    actions: w ? (u) => [button("Change group", () => changeGroup(u)), button("Remove", () => remove(u), "danger")] : null,
  });
  const load = async () => table.update(await api("GET", accountPath("/users")));

  async function changeGroup(u) {
    const done = await formDialog(`Change the group of ${u.email}`, "Save", () => roleField(u.group), (form) =>
      api("PATCH", accountPath(`/users/${segment(u.id)}`), { group: chosenRole(form) })
    );
    if (done) {
      ctx.notify(`${u.email} is now ${done.group}.`);
      await ctx.run(load);
    }
  }

  async function remove(u) {
    if (await confirmAction("Remove user", `Remove the user ${u.email} from the account?`, "Remove user", () => api("DELETE", accountPath(`/users/${segment(u.id)}`)))) {
      ctx.notify(`${u.email} removed.`);
      await ctx.run(load);
    }
  }

  panel.append(ctx.me.group === "member" ? h("p", { class: "note" }, "Members see only their own user.") : w ? "" : readOnlyNote(ctx, "users"), table.el);
  await load();
}

async function invitationsTab(ctx, panel) {
  const table = dataTable({
    caption: "Invitations",
    empty: "No invitation yet.",
    sortKey: "invitedAt",
    sortDir: "descending",
    columns: [
      { key: "id", label: "Invite ID", render: (i) => mono(i.id) },
      { key: "email", label: "Email" },
      { key: "group", label: "Group", render: (i) => badge(i.group) },
      { key: "invitedAt", label: "Invited at", render: (i) => when(i.invitedAt) },
      { key: "status", label: "Status", render: (i) => badge(i.status) },
      { key: "expiresAt", label: "Expires", render: (i) => when(i.expiresAt) },
    ],
    actions: ctx.can("invites", "d") ? (i) => (i.status === "pending" ? button("Revoke", () => revoke(i), "danger") : null) : null,
  });
  const load = async () => table.update(await api("GET", accountPath("/invites")));

  async function invite() {
    const made = await formDialog(
      "Invite a user",
      "Send invite",
      () => [
        field({ label: "Email", name: "email", type: "email", required: true, hint: `They join when they first sign in through the identity provider, within ${ctx.config.inviteDays} days.` }),
        roleField("member"),
      ],
      (form) => api("POST", accountPath("/invites"), { email: form.elements.email.value.trim(), group: chosenRole(form) })
    );
    if (made) {
      ctx.notify(`${made.email} invited as ${made.group}.`);
      await ctx.run(load);
    }
  }

  async function revoke(i) {
    if (await confirmAction("Revoke invitation", `Revoke the invitation of ${i.email} (${i.id})?`, "Revoke invitation", () => api("DELETE", accountPath(`/invites/${segment(i.id)}`)))) {
      ctx.notify(`The invitation of ${i.email} is revoked.`);
      await ctx.run(load);
    }
  }

  panel.append(
    ctx.can("invites", "c") ? toolbar(button("Invite user", invite, "primary")) : readOnlyNote(ctx, "invitations"),
    table.el
  );
  await load();
}
