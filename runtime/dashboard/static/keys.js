// A namespace's keys: browse by prefix, 50 at a time with "Load more" on the cursor, select several
// for one bulk delete, copy or delete one. Expiration and metadata show beside each key.

import { kv } from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { announce, copy, formatCount, formatRelative, formatTime, h, replace } from "./dom.js";
import { exportNamespace, importControl } from "./namespaces.js";

const PAGE = 50;
const METADATA_SHOWN = 120;

export function keyHash(id, key) {
  return `#/ns/${encodeURIComponent(id)}/key/${encodeURIComponent(key)}`;
}

function metadataText(metadata) {
  if (metadata === undefined) return "";
  const text = JSON.stringify(metadata);
  return text.length > METADATA_SHOWN ? `${text.slice(0, METADATA_SHOWN)}…` : text;
}

function expirationCell(expiration) {
  if (!expiration) return h("td", { class: "muted" }, "never");
  return h("td", {}, h("time", { attrs: { datetime: new Date(expiration * 1000).toISOString() }, title: formatTime(expiration) }, formatRelative(expiration)));
}

export async function renderKeys(main, where, context) {
  const namespace = await kv.getNamespace(where.id);
  const state = { prefix: sessionStorage.getItem(`workerhost.prefix.${where.id}`) || "", cursor: "", shown: 0, selected: new Set() };
  const body = h("tbody");
  const summary = h("p", { class: "summary", attrs: { "aria-live": "polite" } });
  const more = h("button", { type: "button", on: { click: () => load(false) } }, "Load more");
  const deleteSelected = h("button", { type: "button", class: "danger", disabled: true, on: { click: () => bulkDelete() } }, "Delete selected");
  const selectAll = h("input", {
    type: "checkbox",
    attrs: { "aria-label": "Select every key shown" },
    on: { change: () => body.querySelectorAll("input[type=checkbox]").forEach((box) => setSelected(box, selectAll.checked)) },
  });

  function setSelected(box, on) {
    box.checked = on;
    if (on) state.selected.add(box.dataset.key);
    else state.selected.delete(box.dataset.key);
    deleteSelected.disabled = state.selected.size === 0;
    deleteSelected.textContent = state.selected.size ? `Delete selected (${formatCount(state.selected.size)})` : "Delete selected";
  }

  function keyRow(entry) {
    const link = h("a", { href: keyHash(where.id, entry.name), class: "key" }, entry.name);
    const cells = [];
    if (context.canWrite) {
      const box = h("input", { type: "checkbox", dataset: { key: entry.name }, attrs: { "aria-label": `Select ${entry.name}` } });
      box.addEventListener("change", () => setSelected(box, box.checked));
      cells.push(h("td", { class: "select" }, box));
    }
    const actions = [
      h("button", { type: "button", on: { click: () => copy(entry.name, "the key") }, attrs: { "aria-label": `Copy the key ${entry.name}` } }, "Copy"),
    ];
    if (context.canWrite) {
      actions.push(
        h("button", { type: "button", class: "danger", on: { click: () => removeOne(entry.name) }, attrs: { "aria-label": `Delete ${entry.name}` } }, "Delete"),
      );
    }
    return h(
      "tr",
      { dataset: { key: entry.name } },
      ...cells,
      h("th", { scope: "row" }, link),
      expirationCell(entry.expiration),
      h("td", {}, h("code", { class: "metadata" }, metadataText(entry.metadata))),
      h("td", { class: "actions" }, actions),
    );
  }

  async function load(fresh) {
    if (fresh) {
      state.cursor = "";
      state.shown = 0;
      state.selected.clear();
      selectAll.checked = false;
      setSelectedCount();
      body.replaceChildren();
    }
    const page = await kv.listKeys(where.id, { prefix: state.prefix, cursor: state.cursor, limit: PAGE });
    body.append(...page.keys.map(keyRow));
    state.cursor = page.cursor;
    state.shown += page.keys.length;
    more.hidden = !page.cursor;
    const which = state.prefix ? ` starting with “${state.prefix}”` : "";
    summary.textContent = `${formatCount(state.shown)} key${state.shown === 1 ? "" : "s"}${which} shown${page.cursor ? "; more to load" : ""}.`;
    if (!fresh && page.keys.length) body.querySelectorAll("a.key")[state.shown - page.keys.length]?.focus();
  }

  function setSelectedCount() {
    deleteSelected.disabled = true;
    deleteSelected.textContent = "Delete selected";
  }

  async function removeOne(key) {
    const sure = await confirmDialog({ title: "Delete this key?", message: `From ${namespace.title}:`, details: [key], confirm: "Delete key", danger: true });
    if (!sure) return;
    try {
      await kv.deleteKey(where.id, key);
      announce(`Deleted ${key}.`);
      await load(true);
    } catch (error) {
      announce(`Delete failed: ${error.message}`, "error");
    }
  }

  async function bulkDelete() {
    const keys = [...state.selected];
    const shown = keys.slice(0, 10);
    const sure = await confirmDialog({
      title: `Delete ${formatCount(keys.length)} key${keys.length === 1 ? "" : "s"}?`,
      message: `From ${namespace.title}${keys.length > shown.length ? ` (the first ${shown.length} shown)` : ""}:`,
      details: shown,
      confirm: "Delete keys",
      danger: true,
    });
    if (!sure) return;
    try {
      await kv.bulkDelete(where.id, keys);
      announce(`Deleted ${formatCount(keys.length)} keys.`);
      await load(true);
    } catch (error) {
      announce(`Bulk delete failed: ${error.message}`, "error");
    }
  }

  const search = h("input", { id: "prefix", type: "search", value: state.prefix, autocomplete: "off", spellcheck: false, dataset: { search: "" } });
  const searchForm = h(
    "form",
    {
      class: "inline",
      role: "search",
      on: {
        submit: async (event) => {
          event.preventDefault();
          state.prefix = search.value;
          sessionStorage.setItem(`workerhost.prefix.${where.id}`, state.prefix);
          await load(true);
        },
      },
    },
    h("label", { htmlFor: "prefix" }, "Key prefix"),
    search,
    h("button", { type: "submit" }, "Search"),
  );
  const tools = [
    h("button", { type: "button", on: { click: () => exportNamespace(namespace).catch((error) => announce(error.message, "error")) } }, "Export"),
  ];
  if (context.canWrite) {
    tools.unshift(h("a", { href: `#/ns/${encodeURIComponent(where.id)}/new`, class: "button primary" }, "Add pair"));
    tools.push(importControl(namespace, () => load(true)), deleteSelected);
  }
  const headers = [context.canWrite ? h("th", { scope: "col", class: "select" }, selectAll) : null, "Key", "Expires", "Metadata", "Actions"];
  const table = h(
    "table",
    { class: "grid keys" },
    h("caption", { class: "visually-hidden" }, `Keys of ${namespace.title}`),
    h("thead", {}, h("tr", {}, headers.filter(Boolean).map((cell) => (cell instanceof Node ? cell : h("th", { scope: "col" }, cell))))),
    body,
  );
  // Up and down arrows move between keys, as in a list.
  table.addEventListener("keydown", (event) => {
    if (!(event.target instanceof HTMLAnchorElement) || !["ArrowDown", "ArrowUp"].includes(event.key)) return;
    const links = [...body.querySelectorAll("a.key")];
    const next = links[links.indexOf(event.target) + (event.key === "ArrowDown" ? 1 : -1)];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
  replace(
    main,
    h("nav", { class: "crumbs", attrs: { "aria-label": "Breadcrumb" } }, h("a", { href: "#/" }, "Namespaces"), " / "),
    h("h1", {}, namespace.title),
    h("p", { class: "muted" }, "ID ", h("code", {}, namespace.id)),
    searchForm,
    h("div", { class: "toolbar" }, tools),
    summary,
    table,
    more,
  );
  await load(true);
}
