// dom.js - building the page without innerHTML: elements, tables that sort,
// dialogs, and the formats the pages show (times, retention periods).

// ---- text from outside ----

// The characters that reorder, hide or break the text around them: what
// mgmtd's text fields refuse (server/util.c, text_hazard(); keep the two lists
// the same) and what older rows may still hold. C0 and C1 controls and DEL;
// bidirectional embeddings, overrides (U+202A-U+202E) and isolates
// (U+2066-U+2069); the line and paragraph separators; zero-width and other
// invisible characters (U+200B, U+2060-U+2065, U+206A-U+206F, U+FEFF, tag
// characters U+E0000-U+E007F); and a lone UTF-16 surrogate, which JSON can
// carry but is no character. ZWNJ, ZWJ, LRM, RLM and ALM are text that
// Arabic, Hebrew, Persian and emoji need.
function mustEscape(cp) {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x200b ||
    (cp >= 0x2028 && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x206f) ||
    cp === 0xfeff ||
    (cp >= 0xd800 && cp <= 0xdfff) ||
    (cp >= 0xe0000 && cp <= 0xe007f)
  );
}

function escapeOf(cp) {
  return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
}

// Text as the page shows it, in mgmtctl's notation (docs/mgmtctl.md): every
// mustEscape() character as the escape of its code point (\u202e, \U000e0041),
// and a backslash doubled only where it would otherwise read as the start of
// an escape (before \, u, U, x or an escaped character), so "C:\data" shows
// as it is and a real U+202E never looks like one typed as "\u202e".
export function visible(text) {
  const chars = Array.from(String(text)); // by code point; a lone surrogate comes alone
  let out = "";
  chars.forEach((c, i) => {
    const cp = c.codePointAt(0);
    const next = chars[i + 1];
    if (mustEscape(cp)) out += escapeOf(cp);
    else if (c === "\\" && next !== undefined && ("\\uUx".includes(next) || mustEscape(next.codePointAt(0)))) out += "\\\\";
    else out += c;
  });
  return out;
}

// The attributes that people read (or hear): shown like text.
const READ_ATTRS = new Set(["aria-label", "title", "placeholder", "alt"]);

// h("button", {class: "x", onclick: f}, "text", child...) -> element.
// Attributes set to false, null or undefined are left out; children that are
// strings become text nodes, so no value from the API is ever parsed as HTML,
// and go through visible(), so no control or override reaches the page raw;
// so do the attributes people read. `value` and data-* are data, kept as
// they are: a page passes visible(x) as a value it shows from the API.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : READ_ATTRS.has(k) ? visible(v) : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(visible(c)));
  }
}

let uid = 0;
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// ---- formats ----

// "2024-01-02 03:04:05 UTC" in a <time>; "-" when absent. The date and the
// time of day are each unbreakable (app.css): a narrow column puts them on
// two lines, never "2024-01-" on one and "02" on the next.
export function when(iso) {
  if (!iso) return h("span", { class: "muted" }, "-");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const [date, time] = d.toISOString().replace(/\.\d+Z$/, "").split("T");
  return h("time", { datetime: iso }, h("span", null, date), " ", h("span", null, `${time} UTC`));
}

const UNITS = [
  ["y", 365 * 86400],
  ["d", 86400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
];

// A retention period in nanoseconds as influxctl prints it: 0 is "infinite",
// else days, hours, minutes, seconds ("30d", "1d12h").
export function formatRetention(ns) {
  if (!ns) return "infinite";
  if (ns % 1e9 !== 0) return `${ns}ns`;
  let s = ns / 1e9;
  let out = "";
  for (const [u, size] of UNITS.slice(1)) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${u}`;
      s %= size;
    }
  }
  return out;
}

const PARSE_UNITS = { y: 365 * 86400, mo: 30 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1 };

// influxctl's duration syntax ("30d", "1mo", "2.5d", "30d30d", "infinite" or
// empty for forever) into nanoseconds; throws Error with a sentence when bad.
export function parseRetention(text) {
  const t = text.trim();
  if (t === "" || t === "infinite" || /^0+[a-z]*$/.test(t)) return 0;
  const re = /(\d+(?:\.\d+)?)(mo|y|w|d|h|m|s)/g;
  let total = 0;
  let used = 0;
  for (const m of t.matchAll(re)) {
    if (m.index !== used) break;
    total += parseFloat(m[1]) * PARSE_UNITS[m[2]];
    used += m[0].length;
  }
  if (used !== t.length || total <= 0)
    throw new Error(
      'Retention period: a duration such as 30d, 12h, 1mo, 1y or 2.5d, or "infinite".'
    );
  return Math.round(total) * 1e9;
}

export function formatTemplate(parts) {
  if (!parts || !parts.length) return h("span", { class: "muted" }, "none");
  return parts
    .map((p) =>
      p.type === "bucket"
        ? `bucket: ${p.value.tagName} (${p.value.numberOfBuckets} buckets)`
        : `${p.type}: ${p.value}`
    )
    .join(", ");
}

// ---- tables ----

// A table of rows with one button per column header that sorts by it.
//   columns: [{key, label, render(row) -> node|string, sort(row) -> value}]
//   actions(row) -> [nodes]: a last column of buttons, when given
// Returns {el, update(rows)}.
export function dataTable({ caption, columns, actions, empty, sortKey, sortDir }) {
  let rows = [];
  let key = sortKey || null;
  let dir = sortDir || "ascending";
  const table = h("table");
  const wrap = h("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": caption }, table);

  function value(col, row) {
    if (col.sort) return col.sort(row);
    const v = row[col.key];
    return v === undefined || v === null ? "" : v;
  }

  function render() {
    const ths = columns.map((c) => {
      const sorted = key === c.key;
      return h(
        "th",
        { scope: "col", "aria-sort": sorted ? dir : "none" },
        h(
          "button",
          {
            type: "button",
            class: "sort",
            onclick: () => {
              if (key === c.key) dir = dir === "ascending" ? "descending" : "ascending";
              else {
                key = c.key;
                dir = "ascending";
              }
              render();
            },
          },
          c.label,
          h("span", { class: "sort-mark", "aria-hidden": "true" }, sorted ? (dir === "ascending" ? " ▲" : " ▼") : "")
        )
      );
    });
    if (actions) ths.push(h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")));
    const col = columns.find((c) => c.key === key);
    const list = col
      ? [...rows].sort((a, b) => {
          const x = value(col, a);
          const y = value(col, b);
          const r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return dir === "ascending" ? r : -r;
        })
      : rows;
    const body = list.map((r) =>
      h(
        "tr",
        null,
        columns.map((c) => h("td", { "data-label": c.label }, c.render ? c.render(r) : String(r[c.key] ?? ""))),
        actions ? h("td", { class: "actions" }, actions(r)) : null
      )
    );
    if (!list.length)
      body.push(h("tr", null, h("td", { colspan: columns.length + (actions ? 1 : 0), class: "muted" }, empty || "Nothing to show.")));
    table.replaceChildren(h("caption", null, caption), h("thead", null, h("tr", null, ths)), h("tbody", null, body));
  }

  render();
  return {
    el: wrap,
    update(next) {
      rows = next;
      render();
    },
  };
}

// ---- dialogs ----

// A modal <dialog> with a title; content is built by body(dialog).
// Returns the dialog, shown; it removes itself when closed.
export function dialog(title, body, { onclose } = {}) {
  // a new action begins: the page's notices of earlier ones are done (app.js)
  document.dispatchEvent(new CustomEvent("mgmtd:action"));
  const titleId = newId("dialog-title");
  const d = h("dialog", { "aria-labelledby": titleId }, h("h2", { id: titleId }, title));
  append(d, [body(d)]);
  d.addEventListener("close", () => {
    if (onclose) onclose();
    d.remove();
  });
  document.body.append(d);
  d.showModal();
  return d;
}

export function alertBox() {
  return h("div", { class: "error", role: "alert", hidden: true });
}

// The API's field names in a message, as the form's labels say them: a person
// filled in "Partition template", part 2, not partitionTemplate[1].value.
const FIELD_WORDS = [
  [/\bpartitionTemplate\[(\d+)\](?:\.value)?(?:\.(tagName|numberOfBuckets))?/g, (_, i, sub) => `Partition template, part ${Number(i) + 1}${sub === "tagName" ? " (tag name)" : sub === "numberOfBuckets" ? " (buckets)" : ""}`],
  [/\bpartitionTemplate\b/g, () => "Partition template"],
  [/\bexpiresAt\b/g, () => "Expires"],
  [/\bretentionPeriod\b/g, () => "Retention period"],
  [/\bmaxTables\b/g, () => "Maximum tables"],
  [/\bmaxColumnsPerTable\b/g, () => "Maximum columns per table"],
];

export function inFieldWords(message) {
  return FIELD_WORDS.reduce((m, [re, f]) => m.replace(re, f), String(message));
}

// Every invalid field of a form at once: take(f) runs one field's check and
// keeps its message (which starts with the field's label); done() throws
// them together, so that a person fixes all of them in one go.
export class FormErrors extends Error {
  constructor(list) {
    super(list.join(" "));
    this.list = list;
  }
}

export function checks() {
  const list = [];
  return {
    take(f) {
      try {
        return f();
      } catch (e) {
        list.push(e.message);
        return undefined;
      }
    },
    done() {
      if (list.length) throw new FormErrors(list);
    },
  };
}

// box shows e (an Error, a FormErrors or a message), or nothing.
export function showError(box, e) {
  const list = !e ? [] : e.list || [typeof e === "string" ? e : e.message];
  if (list.length > 1) box.replaceChildren(h("p", null, "Please correct these fields:"), h("ul", null, list.map((m) => h("li", null, visible(inFieldWords(m))))));
  else box.textContent = list.length ? visible(inFieldWords(list[0])) : "";
  box.hidden = !list.length;
}

// Asks a yes/no question; resolves true when confirmed. action(d) may run
// the change and throw: its message is shown and the dialog stays open.
export function confirmAction(title, message, confirmLabel, action) {
  return new Promise((resolve) => {
    let done = false;
    dialog(
      title,
      (d) => {
        const err = alertBox();
        const yes = h("button", { type: "button", class: "danger" }, confirmLabel);
        yes.addEventListener("click", async () => {
          yes.disabled = true;
          try {
            await action();
            done = true;
            d.close();
          } catch (e) {
            showError(err, e);
            yes.disabled = false;
          }
        });
        return [
          h("p", null, message),
          err,
          h("div", { class: "buttons" }, h("button", { type: "button", onclick: () => d.close() }, "Cancel"), yes),
        ];
      },
      { onclose: () => resolve(done) }
    );
  });
}

// A dialog holding a form: fields(form) builds its inputs; submit(form)
// runs on submit and may throw, whose message is shown in the dialog.
export function formDialog(title, submitLabel, fields, submit) {
  return new Promise((resolve) => {
    let result;
    dialog(
      title,
      (d) => {
        const err = alertBox();
        const ok = h("button", { type: "submit" }, submitLabel);
        const form = h("form", { novalidate: true });
        append(form, [
          fields(form),
          err,
          h("div", { class: "buttons" }, h("button", { type: "button", onclick: () => d.close() }, "Cancel"), ok),
        ]);
        form.addEventListener("submit", async (ev) => {
          ev.preventDefault();
          showError(err, "");
          ok.disabled = true;
          try {
            result = await submit(form);
            d.close();
          } catch (e) {
            showError(err, e);
            ok.disabled = false;
          }
        });
        return form;
      },
      { onclose: () => resolve(result) }
    );
  });
}

// A labelled input: {label, name, type, value, required, hint, attrs}.
export function field({ label, name, type = "text", value, required, hint, attrs }) {
  const id = newId(name);
  const hintId = hint ? `${id}-hint` : null;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    h("input", { id, name, type, value, required, "aria-describedby": hintId, ...(attrs || {}) })
  );
}

// Expiry: "never" or a date and time, as radio buttons and a datetime-local input.
export function expiryField() {
  const id = newId("expires");
  const never = h("input", { type: "radio", name: "expiry", value: "never", id: `${id}-never`, checked: true });
  const at = h("input", { type: "radio", name: "expiry", value: "at", id: `${id}-at` });
  const input = h("input", { type: "datetime-local", name: "expiresAt", id: `${id}-when`, "aria-label": "Expires at (your local time)" });
  input.addEventListener("input", () => {
    at.checked = true;
  });
  return h(
    "fieldset",
    { class: "field" },
    h("legend", null, "Expires"),
    h("div", null, never, h("label", { for: `${id}-never` }, "Never")),
    h("div", null, at, h("label", { for: `${id}-at` }, "At"), " ", input)
  );
}

// The RFC 3339 instant of an expiryField, or null for never.
export function expiryValue(form) {
  if (form.elements.expiry.value !== "at") return null;
  const v = form.elements.expiresAt.value;
  const d = new Date(v);
  if (!v || Number.isNaN(d.getTime())) throw new Error("Expires: choose a date and time, or Never.");
  return d.toISOString();
}
