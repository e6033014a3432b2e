// The live feed: every write and delete as it happens (handlers, the REST API, the CLI, other hosts on
// the same files), read from /__workerhost/api/changes while this view is open.
//
// It is read with fetch() and a stream reader rather than EventSource, which cannot send the token.

import { dashboard, kv } from "./api.js";
import { formatCount, h, replace } from "./dom.js";
import { keyHash } from "./keys.js";

const KEPT = 500; // events shown at most; older ones drop off the bottom
const OPERATIONS = {
  put: "put",
  delete: "delete",
  namespace_create: "created namespace",
  namespace_rename: "renamed namespace to",
  namespace_delete: "deleted namespace",
};

/** Parse server-sent events from a stream of text chunks: yields {event, data}. */
export async function* serverSentEvents(reader) {
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

function item(change, titles) {
  const when = new Date(change.at * 1000);
  const title = change.title ?? titles.get(change.namespace) ?? change.namespace;
  const where =
    change.op === "namespace_delete"
      ? h("span", { class: "namespace" }, title)
      : h("a", { href: `#/ns/${encodeURIComponent(change.namespace)}`, class: "namespace" }, title);
  const keys = change.keys.map((key) =>
    change.op === "put" ? h("a", { href: keyHash(change.namespace, key), class: "key" }, key) : h("span", { class: "key" }, key),
  );
  const more = change.count > change.keys.length ? ` and ${formatCount(change.count - change.keys.length)} more` : "";
  const verb = OPERATIONS[change.op] ?? change.op;
  const body = change.op.startsWith("namespace_")
    ? [verb, " ", where]
    : [verb, " ", keys.flatMap((key, index) => (index ? [", ", key] : [key])), more, " in ", where];
  return h(
    "li",
    { class: `change ${change.op}` },
    h("time", { attrs: { datetime: when.toISOString() } }, when.toLocaleTimeString()),
    " ",
    h("span", { class: "source" }, change.source),
    " ",
    body,
  );
}

export async function renderFeed(main, _where, _context) {
  const titles = new Map((await kv.listNamespaces()).map((namespace) => [namespace.id, namespace.title]));
  const list = h("ol", { class: "feed", reversed: true, attrs: { "aria-label": "Changes, newest first" } });
  const state = h("p", { class: "muted", attrs: { "aria-live": "polite" } }, "Connecting…");
  let paused = false;
  const pause = h(
    "button",
    {
      type: "button",
      attrs: { "aria-pressed": "false" },
      on: {
        click: () => {
          paused = !paused;
          pause.setAttribute("aria-pressed", String(paused));
          pause.textContent = paused ? "Resume" : "Pause";
        },
      },
    },
    "Pause",
  );
  const clear = h("button", { type: "button", on: { click: () => list.replaceChildren() } }, "Clear");
  replace(
    main,
    h("h1", {}, "Live feed"),
    h("p", {}, "Writes and deletes as they happen: from workers' bindings, the REST API, the CLI and other processes using the same data."),
    h("div", { class: "toolbar" }, pause, clear),
    state,
    list,
  );

  const controller = new AbortController();
  const show = (node) => {
    if (paused) return;
    list.prepend(node);
    while (list.children.length > KEPT) list.lastElementChild.remove();
  };
  (async () => {
    try {
      const response = await dashboard.changes(controller.signal);
      state.textContent = "Connected: waiting for writes.";
      main.dataset.feed = "connected";
      for await (const message of serverSentEvents(response.body.getReader())) {
        let data;
        try {
          data = JSON.parse(message.data);
        } catch {
          continue;
        }
        if (message.event === "change") {
          if (data.op === "namespace_create" || data.op === "namespace_rename") titles.set(data.namespace, data.title);
          show(item(data, titles));
        } else if (message.event === "missed") {
          show(h("li", { class: "missed" }, `${formatCount(data.count)} changes were missed (the feed fell behind).`));
        }
      }
      state.textContent = "The host closed the feed.";
    } catch (error) {
      if (error.name !== "AbortError") state.textContent = `The feed stopped: ${error.message}`;
    } finally {
      delete main.dataset.feed;
    }
  })();
  return () => controller.abort();
}
