// The dashboard: sign-in (when the host has API tokens), the navigation, and which view the address shows.
//
//   #/                       namespaces
//   #/ns/ID                  a namespace's keys
//   #/ns/ID/key/KEY          one key (KEY percent-encoded)
//   #/ns/ID/new              add a pair
//   #/workers                workers, routes, bindings, crons
//   #/feed                   the live feed of writes

import { RequestError, dashboard, token, useAccount } from "./api.js";
import { announce, focusHeading, h, replace } from "./dom.js";
import { renderFeed } from "./feed.js";
import { renderKeys } from "./keys.js";
import { renderNamespaces } from "./namespaces.js";
import { renderNewPair, renderValue } from "./value.js";
import { renderWorkers } from "./workers.js";

const main = document.getElementById("main");
const session = { access: "read", tokens: false };
let cleanup = null;

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const decode = (part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  if (parts[0] === "ns" && parts[1]) {
    const id = decode(parts[1]);
    if (parts[2] === "key" && parts.length > 3) return { view: "value", id, key: decode(parts.slice(3).join("/")) };
    if (parts[2] === "new") return { view: "new", id };
    return { view: "keys", id };
  }
  if (parts[0] === "workers") return { view: "workers" };
  if (parts[0] === "feed") return { view: "feed" };
  return { view: "namespaces" };
}

const VIEWS = {
  namespaces: renderNamespaces,
  keys: renderKeys,
  value: renderValue,
  new: renderNewPair,
  workers: renderWorkers,
  feed: renderFeed,
};
const SECTIONS = { namespaces: "namespaces", keys: "namespaces", value: "namespaces", new: "namespaces", workers: "workers", feed: "feed" };

async function show() {
  if (cleanup) cleanup();
  cleanup = null;
  const where = route();
  for (const link of document.querySelectorAll("nav a[data-section]")) {
    if (link.dataset.section === SECTIONS[where.view]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  replace(main, h("p", { class: "loading" }, "Loading…"));
  const context = { canWrite: session.access === "write", go: (hash) => (location.hash = hash) };
  try {
    cleanup = (await VIEWS[where.view](main, where, context)) || null;
  } catch (error) {
    if (error instanceof RequestError && error.status === 401) {
      signIn("The token was refused. Enter a valid API token.");
      return;
    }
    replace(main, h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, error.message));
  }
  focusHeading(main.querySelector("h1"));
}

function signIn(problem) {
  token.clear();
  document.body.classList.add("signed-out");
  const field = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    {
      class: "sign-in",
      on: {
        submit: async (event) => {
          event.preventDefault();
          token.set(field.value.trim());
          await start();
        },
      },
    },
    h("h1", {}, "Sign in"),
    h(
      "p",
      {},
      "This host has API tokens configured. Enter one: a write token (Workers KV Storage Write) can change data, a read token only look. It is kept in this tab only.",
    ),
    problem ? h("p", { class: "error", role: "alert" }, problem) : null,
    h("label", { htmlFor: "token" }, "API token"),
    field,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  replace(main, form);
  field.focus();
}

function showAccess() {
  const badge = document.getElementById("access");
  const signOut = document.getElementById("sign-out");
  badge.textContent = session.access === "write" ? "read and write" : "read only";
  badge.dataset.access = session.access;
  signOut.hidden = !session.tokens;
  document.body.classList.toggle("read-only", session.access !== "write");
}

async function start() {
  try {
    const answer = await dashboard.session();
    Object.assign(session, answer);
    useAccount(answer.account_id);
  } catch (error) {
    if (error instanceof RequestError && error.status === 401) {
      signIn(token.get() ? "That token was refused: it is not one of this host's API tokens." : null);
      return;
    }
    replace(main, h("h1", {}, "The host did not answer"), h("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  document.body.classList.remove("signed-out");
  showAccess();
  await show();
}

document.getElementById("sign-out").addEventListener("click", () => {
  token.clear();
  announce("Signed out.");
  location.hash = "#/";
  start();
});
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault(); // the address's fragment is the view, not an anchor
  main.focus();
});
window.addEventListener("hashchange", () => {
  if (!document.body.classList.contains("signed-out")) show();
});
document.addEventListener("keydown", (event) => {
  // "/" jumps to the search field of the view, as on many sites; not while typing.
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    const search = document.querySelector("[data-search]");
    if (search) {
      event.preventDefault();
      search.focus();
    }
  }
});

start();
