// Talking to the host: its v4 REST API for everything KV (the same requests wrangler makes), and the
// few dashboard endpoints under /__workerhost/api for what that API lacks.
//
// The API token, when the host has tokens, lives in sessionStorage (this tab, this origin only) and
// goes out as "Authorization: Bearer"; it is never put in a URL.

const TOKEN_KEY = "workerhost.token";
const REST = "/client/v4";
const OWN = "/__workerhost/api";

export class RequestError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

let account = null;

/** The account id REST paths need (from the session endpoint). */
export function useAccount(id) {
  account = id;
}

function authorized(headers = {}) {
  const value = token.get();
  return value ? { ...headers, Authorization: `Bearer ${value}` } : headers;
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  let code;
  try {
    const body = await response.json();
    const first = body && Array.isArray(body.errors) ? body.errors[0] : null;
    if (first && typeof first.message === "string") {
      message = first.message;
      code = first.code;
    } else if (body && typeof body.error === "string") {
      message = body.error;
    }
  } catch {
    // not JSON: the status line will do
  }
  return new RequestError(response.status, message, code);
}

/** fetch() with the token; throws RequestError unless the answer is 2xx. */
export async function send(method, path, { body, headers, signal } = {}) {
  const response = await fetch(path, { method, body, headers: authorized(headers), signal, cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return response;
}

async function json(method, path, body) {
  const options = body === undefined ? {} : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const response = await send(method, path, options);
  return response.json();
}

const namespaces = () => `${REST}/accounts/${account}/storage/kv/namespaces`;
const namespace = (id) => `${namespaces()}/${encodeURIComponent(id)}`;
const keyPath = (id, kind, key) => `${namespace(id)}/${kind}/${encodeURIComponent(key)}`;

export const dashboard = {
  session: () => json("GET", `${OWN}/session`),
  stats: (id) => json("GET", `${OWN}/namespaces/${encodeURIComponent(id)}/stats`),
  exportFile: (id) => send("GET", `${OWN}/namespaces/${encodeURIComponent(id)}/export`),
  importFile: (id, file) =>
    send("POST", `${OWN}/namespaces/${encodeURIComponent(id)}/import`, {
      body: file,
      headers: { "Content-Type": "application/x-ndjson" },
    }).then((response) => response.json()),
  changes: (signal) => send("GET", `${OWN}/changes`, { signal, headers: { Accept: "text/event-stream" } }),
  status: () => json("GET", "/__workerhost/status"),
  runCron: (worker, cron) =>
    json("POST", `/__workerhost/scheduled?worker=${encodeURIComponent(worker)}&cron=${encodeURIComponent(cron)}`),
};

export const kv = {
  /** Every namespace, all pages. */
  async listNamespaces() {
    const all = [];
    for (let page = 1; ; page += 1) {
      const body = await json("GET", `${namespaces()}?per_page=100&page=${page}`);
      all.push(...body.result);
      if (!body.result_info || page >= body.result_info.total_pages) return all;
    }
  },
  getNamespace: (id) => json("GET", namespace(id)).then((body) => body.result),
  createNamespace: (title) => json("POST", namespaces(), { title }).then((body) => body.result),
  renameNamespace: (id, title) => json("PUT", namespace(id), { title }).then((body) => body.result),
  deleteNamespace: (id) => json("DELETE", namespace(id)),
  /** One page of keys: {keys, cursor} (cursor "" at the end). */
  async listKeys(id, { prefix = "", cursor = "", limit = 50 } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (prefix) query.set("prefix", prefix);
    if (cursor) query.set("cursor", cursor);
    const body = await json("GET", `${namespace(id)}/keys?${query}`);
    return { keys: body.result, cursor: body.result_info.cursor || "" };
  },
  /** The key's metadata, or undefined if the key does not exist. */
  async metadata(id, key) {
    try {
      return (await json("GET", keyPath(id, "metadata", key))).result;
    } catch (error) {
      if (error.status === 404 && error.code === 10009) return undefined;
      throw error;
    }
  },
  /** The value's response, to read as a stream (previews) or whole. */
  value: (id, key, signal) => send("GET", keyPath(id, "values", key), { signal }),
  /** Write a value with its metadata and expiration, as wrangler does (multipart when there is metadata). */
  async put(id, key, value, { metadata, expiration, expirationTtl } = {}) {
    const query = new URLSearchParams();
    if (expirationTtl !== undefined) query.set("expiration_ttl", String(expirationTtl));
    else if (expiration !== undefined) query.set("expiration", String(expiration));
    const url = keyPath(id, "values", key) + (query.size ? `?${query}` : "");
    if (metadata === undefined) {
      return send("PUT", url, { body: value, headers: { "Content-Type": "application/octet-stream" } });
    }
    const form = new FormData();
    form.append("value", value instanceof Blob ? value : new Blob([value]));
    form.append("metadata", JSON.stringify(metadata));
    return send("PUT", url, { body: form });
  },
  deleteKey: (id, key) => send("DELETE", keyPath(id, "values", key)),
  bulkDelete: (id, keys) => json("POST", `${namespace(id)}/bulk/delete`, keys),
};
