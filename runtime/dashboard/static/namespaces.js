// The namespaces: each with its key count and size; create, rename, delete (after a confirmation),
// export and import.

import { dashboard, kv } from "./api.js";
import { confirmDialog, promptDialog } from "./dialogs.js";
import { announce, copy, download, fileNameFor, focusHeading, formatBytes, formatCount, h, replace } from "./dom.js";

const STATS_AT_ONCE = 3;

/** Export a namespace as a workerhost-kv-export file (the CLI's format). */
export async function exportNamespace(namespace) {
  announce(`Exporting ${namespace.title}…`);
  const response = await dashboard.exportFile(namespace.id);
  download(await response.blob(), fileNameFor(namespace.title, ".jsonl"));
  announce(`Exported ${namespace.title}.`);
}

/** A file picker that imports the chosen export into the namespace; ``done`` runs after. */
export function importControl(namespace, done) {
  const id = `import-${namespace.id}`;
  const input = h("input", {
    id,
    type: "file",
    accept: ".jsonl,.json,application/x-ndjson",
    class: "visually-hidden",
    on: {
      change: async () => {
        const file = input.files[0];
        if (!file) return;
        try {
          announce(`Importing ${file.name}…`);
          const result = await dashboard.importFile(namespace.id, file);
          const skipped = result.expired ? `; ${formatCount(result.expired)} had already expired` : "";
          announce(`Imported ${formatCount(result.imported)} keys into ${namespace.title}${skipped}.`);
          done();
        } catch (error) {
          announce(`Import failed: ${error.message}`, "error");
        } finally {
          input.value = "";
        }
      },
    },
  });
  const label = h("label", { htmlFor: id, class: "button", tabIndex: 0 }, "Import");
  label.setAttribute("aria-label", `Import a file into ${namespace.title}`);
  label.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });
  return h("span", {}, input, label);
}

function statsCell(namespace, queue) {
  const cell = h("td", { class: "number" }, "…");
  const size = h("td", { class: "number" }, "…");
  queue.push(async () => {
    try {
      const stats = await dashboard.stats(namespace.id);
      const more = stats.complete ? "" : "+";
      replace(cell, formatCount(stats.keys) + more);
      replace(size, formatBytes(stats.bytes) + more);
      if (!stats.complete) cell.title = "Counting stopped at this many keys";
    } catch (error) {
      replace(cell, "?");
      replace(size, "?");
      cell.title = error.message;
    }
  });
  return [cell, size];
}

async function runQueue(queue) {
  const workers = Array.from({ length: STATS_AT_ONCE }, async () => {
    while (queue.length) await queue.shift()();
  });
  await Promise.all(workers);
}

function row(namespace, context, refresh, queue) {
  const open = h("a", { href: `#/ns/${encodeURIComponent(namespace.id)}` }, namespace.title);
  const actions = [
    h(
      "button",
      {
        type: "button",
        on: { click: () => copy(namespace.id, "the namespace id") },
        attrs: { "aria-label": `Copy the id of ${namespace.title}` },
      },
      "Copy id",
    ),
    h(
      "button",
      {
        type: "button",
        on: { click: () => exportNamespace(namespace).catch((error) => announce(error.message, "error")) },
        attrs: { "aria-label": `Export ${namespace.title}` },
      },
      "Export",
    ),
  ];
  if (context.canWrite) {
    actions.push(
      importControl(namespace, refresh),
      h(
        "button",
        { type: "button", on: { click: () => rename(namespace, refresh) }, attrs: { "aria-label": `Rename ${namespace.title}` } },
        "Rename",
      ),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          on: { click: () => remove(namespace, refresh) },
          attrs: { "aria-label": `Delete ${namespace.title}` },
        },
        "Delete",
      ),
    );
  }
  return h(
    "tr",
    { dataset: { namespace: namespace.id } },
    h("th", { scope: "row" }, open),
    h("td", {}, h("code", {}, namespace.id)),
    ...statsCell(namespace, queue),
    h("td", { class: "actions" }, actions),
  );
}

async function rename(namespace, refresh) {
  const title = await promptDialog({ title: `Rename ${namespace.title}`, label: "New title", value: namespace.title, submit: "Rename" });
  if (title === null || title === namespace.title) return;
  try {
    await kv.renameNamespace(namespace.id, title);
    announce(`Renamed to ${title}.`);
    refresh();
  } catch (error) {
    announce(`Rename failed: ${error.message}`, "error");
  }
}

async function remove(namespace, refresh) {
  const sure = await confirmDialog({
    title: `Delete ${namespace.title}?`,
    message: "The namespace and every key in it are deleted for good.",
    details: [namespace.title, namespace.id],
    confirm: "Delete namespace",
    danger: true,
  });
  if (!sure) return;
  try {
    await kv.deleteNamespace(namespace.id);
    announce(`Deleted ${namespace.title}.`);
    refresh();
  } catch (error) {
    announce(`Delete failed: ${error.message}`, "error");
  }
}

function createForm(refresh) {
  const input = h("input", { id: "new-namespace", type: "text", required: true, autocomplete: "off" });
  return h(
    "form",
    {
      class: "inline",
      on: {
        submit: async (event) => {
          event.preventDefault();
          try {
            const created = await kv.createNamespace(input.value);
            announce(`Created ${created.title}.`);
            input.value = "";
            refresh();
          } catch (error) {
            announce(`Create failed: ${error.message}`, "error");
          }
        },
      },
    },
    h("label", { htmlFor: "new-namespace" }, "New namespace title"),
    input,
    h("button", { type: "submit", class: "primary" }, "Create namespace"),
  );
}

export async function renderNamespaces(main, _where, context) {
  const namespaces = await kv.listNamespaces();
  namespaces.sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  const refresh = () => renderNamespaces(main, _where, context).then(() => focusHeading(main.querySelector("h1")));
  const queue = [];
  const table = h(
    "table",
    { class: "grid" },
    h("caption", {}, `${formatCount(namespaces.length)} namespace${namespaces.length === 1 ? "" : "s"}`),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Title", "ID", "Keys", "Size", "Actions"].map((name) =>
          h("th", { scope: "col", class: name === "Keys" || name === "Size" ? "number" : null }, name),
        ),
      ),
    ),
    h("tbody", {}, namespaces.map((namespace) => row(namespace, context, refresh, queue))),
  );
  replace(
    main,
    h("h1", {}, "Namespaces"),
    context.canWrite ? createForm(refresh) : null,
    namespaces.length ? table : h("p", {}, "No namespaces yet."),
  );
  runQueue(queue);
}
