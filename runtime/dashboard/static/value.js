// One key: its value (text, JSON pretty-printed, or binary as hex), metadata and expiration, all
// editable; and the form that adds a pair (with a confirmation before it overwrites one).
//
// A value may be 25 MiB: only its first PREVIEW bytes are read (the rest of the response is
// cancelled) and shown; the whole value is fetched only to download it, or to write it back with
// new metadata or expiration (the API writes value, metadata and expiration together).

import { kv } from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { announce, copy, download, fileNameFor, formatBytes, formatRelative, formatTime, h, replace } from "./dom.js";
import { keyHash } from "./keys.js";

export const PREVIEW = 64 * 1024;
const HEX_PREVIEW = 16 * 1024;

/** The first ``limit`` bytes of a response body, and whether that was all of it. */
async function readPreview(response, limit) {
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  let done = false;
  while (size < limit) {
    const part = await reader.read();
    if (part.done) {
      done = true;
      break;
    }
    chunks.push(part.value);
    size += part.value.length;
  }
  if (!done) {
    const next = await reader.read(); // a value exactly ``limit`` long ends here
    done = next.done;
    if (!done) chunks.push(next.value);
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes: done ? bytes : bytes.subarray(0, Math.min(bytes.length, limit)), complete: done };
}

/** "text", "json" or "binary", and the text to show. */
function classify(bytes, complete) {
  let text;
  try {
    // A cut-off preview may end inside a character: ``stream`` holds those bytes back instead of failing.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: !complete });
  } catch {
    return { kind: "binary" };
  }
  if (complete && text.trim()) {
    try {
      return { kind: "json", text: JSON.stringify(JSON.parse(text), null, 2), raw: text };
    } catch {
      // not JSON
    }
  }
  return { kind: "text", text, raw: text };
}

/** Bytes as hex lines: offset, 16 bytes, and their printable ASCII. */
export function hexDump(bytes) {
  const lines = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = Array.from(row, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join("\n");
}

let fieldCounter = 0;
const fieldId = (stem) => `${stem}-${(fieldCounter += 1)}`;

function field(label, control, hint) {
  const id = control.id || (control.id = fieldId("field"));
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { htmlFor: id }, label), control, hint ? h("p", { id: hintId, class: "hint" }, hint) : null);
}

function radios(name, legend, options, checked, onChange) {
  return h(
    "fieldset",
    {},
    h("legend", {}, legend),
    options.map(([value, text]) => {
      const id = fieldId(name);
      const input = h("input", { type: "radio", id, name, value, checked: value === checked, on: { change: () => onChange(value) } });
      return h("span", { class: "choice" }, input, h("label", { htmlFor: id }, text));
    }),
  );
}

/** The value, metadata and expiration fields; ``read()`` gives what to write, or throws a message. */
function pairFields({ text, canKeep, metadata, expiration }) {
  const valueMode = { current: canKeep ? "keep" : "text" };
  const textArea = h("textarea", { rows: 10, value: text ?? "", spellcheck: false });
  const file = h("input", { type: "file" });
  const textField = field("Value (text)", textArea);
  const fileField = field("Value (file)", file, "The file's bytes are stored as they are, up to 25 MiB.");
  const showValue = (mode) => {
    valueMode.current = mode;
    textField.hidden = mode !== "text";
    fileField.hidden = mode !== "file";
  };
  const valueOptions = [["text", "Text"], ["file", "A file"]];
  if (canKeep) valueOptions.unshift(["keep", "Keep the current value"]);
  const metadataArea = h("textarea", { rows: 4, value: metadata === undefined || metadata === null ? "" : JSON.stringify(metadata, null, 2), spellcheck: false });
  const when = { current: expiration ? "at" : "never" };
  const ttl = h("input", { type: "number", min: 60, step: 1, value: "3600", inputMode: "numeric" });
  const at = h("input", { type: "datetime-local", step: 1, value: expiration ? new Date(expiration * 1000).toISOString().slice(0, 19) : "" });
  const ttlField = field("Expire after (seconds, at least 60)", ttl);
  const atField = field("Expire at (UTC)", at);
  const showExpiry = (mode) => {
    when.current = mode;
    ttlField.hidden = mode !== "ttl";
    atField.hidden = mode !== "at";
  };
  const nodes = [
    radios("value-source", "Value", valueOptions, valueMode.current, showValue),
    textField,
    fileField,
    field("Metadata (JSON, at most 1024 bytes; empty for none)", metadataArea),
    radios("expiry", "Expiration", [["never", "Never"], ["ttl", "After a time (TTL)"], ["at", "At a date and time"]], when.current, showExpiry),
    ttlField,
    atField,
  ];
  showValue(valueMode.current);
  showExpiry(when.current);
  return {
    nodes,
    valueMode: () => valueMode.current,
    read() {
      const options = {};
      const metadataText = metadataArea.value.trim();
      if (metadataText) {
        try {
          options.metadata = JSON.parse(metadataText);
        } catch (error) {
          throw new Error(`The metadata is not valid JSON: ${error.message}`);
        }
      }
      if (when.current === "ttl") options.expirationTtl = ttl.value.trim();
      if (when.current === "at") {
        const seconds = Date.parse(`${at.value}Z`) / 1000;
        if (!at.value || Number.isNaN(seconds)) throw new Error("Enter the date and time the key expires.");
        options.expiration = Math.floor(seconds);
      }
      let value = null;
      if (valueMode.current === "text") value = textArea.value;
      if (valueMode.current === "file") {
        if (!file.files[0]) throw new Error("Choose the file that holds the value.");
        value = file.files[0];
      }
      return { value, options };
    },
  };
}

function errorLine() {
  return h("p", { class: "error", role: "alert", hidden: true });
}

function showError(line, message) {
  line.hidden = false;
  line.textContent = message;
}

export async function renderValue(main, where, context) {
  const [namespace, response, metadata] = await Promise.all([
    kv.getNamespace(where.id),
    kv.value(where.id, where.key),
    kv.metadata(where.id, where.key),
  ]);
  const size = Number(response.headers.get("content-length") || 0);
  const expiration = response.headers.get("expiration") ? Number(response.headers.get("expiration")) : null;
  const preview = await readPreview(response, PREVIEW);
  const shown = classify(preview.bytes, preview.complete);
  const fetchWhole = async () => (await kv.value(where.id, where.key)).blob();

  let display;
  if (shown.kind === "binary") {
    const bytes = preview.bytes.subarray(0, HEX_PREVIEW);
    display = h("pre", { class: "value hex", tabIndex: 0, attrs: { "aria-label": "The value in hexadecimal" } }, hexDump(bytes));
  } else {
    display = h("pre", { class: `value ${shown.kind}`, tabIndex: 0, attrs: { "aria-label": `The value as ${shown.kind === "json" ? "JSON" : "text"}` } }, shown.text);
  }
  const shownBytes = shown.kind === "binary" ? Math.min(preview.bytes.length, HEX_PREVIEW) : preview.bytes.length;
  const partial = shownBytes < size;
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Size"),
    h("dd", {}, `${formatBytes(size)} (${size} bytes)`),
    h("dt", {}, "Type"),
    h("dd", {}, shown.kind === "json" ? "JSON (pretty-printed)" : shown.kind === "text" ? "Text (UTF-8)" : "Binary"),
    h("dt", {}, "Expires"),
    h("dd", {}, expiration ? [h("time", { attrs: { datetime: new Date(expiration * 1000).toISOString() } }, formatTime(expiration)), ` (${formatRelative(expiration)})`] : "never"),
    h("dt", {}, "Metadata"),
    h("dd", {}, metadata === null || metadata === undefined ? "none" : h("pre", { class: "metadata" }, JSON.stringify(metadata, null, 2))),
  );
  const actions = [
    h("button", { type: "button", on: { click: () => copy(where.key, "the key") } }, "Copy key"),
    shown.kind !== "binary" && preview.complete ? h("button", { type: "button", on: { click: () => copy(shown.raw, "the value") } }, "Copy value") : null,
    h(
      "button",
      {
        type: "button",
        on: {
          click: async () => {
            try {
              download(await fetchWhole(), fileNameFor(where.key));
            } catch (error) {
              announce(`Download failed: ${error.message}`, "error");
            }
          },
        },
      },
      `Download (${formatBytes(size)})`,
    ),
  ];
  if (context.canWrite) {
    actions.push(
      h(
        "button",
        {
          type: "button",
          class: "danger",
          on: {
            click: async () => {
              const sure = await confirmDialog({ title: "Delete this key?", message: `From ${namespace.title}:`, details: [where.key], confirm: "Delete key", danger: true });
              if (!sure) return;
              try {
                await kv.deleteKey(where.id, where.key);
                announce(`Deleted ${where.key}.`);
                context.go(`#/ns/${encodeURIComponent(where.id)}`);
              } catch (error) {
                announce(`Delete failed: ${error.message}`, "error");
              }
            },
          },
        },
        "Delete",
      ),
    );
  }
  replace(
    main,
    h("nav", { class: "crumbs", attrs: { "aria-label": "Breadcrumb" } }, h("a", { href: "#/" }, "Namespaces"), " / ", h("a", { href: `#/ns/${encodeURIComponent(where.id)}` }, namespace.title), " /"),
    h("h1", { class: "key-title" }, where.key),
    h("div", { class: "toolbar" }, actions),
    facts,
    h("h2", {}, "Value"),
    partial ? h("p", { class: "note" }, `Showing the first ${formatBytes(shownBytes)} of ${formatBytes(size)}. Download it for the whole value.`) : null,
    display,
    context.canWrite ? editor() : null,
  );

  function editor() {
    const editable = shown.kind !== "binary" && preview.complete;
    const fields = pairFields({ text: editable ? shown.raw : "", canKeep: true, metadata, expiration });
    const problem = errorLine();
    return h(
      "form",
      {
        class: "editor",
        on: {
          submit: async (event) => {
            event.preventDefault();
            problem.hidden = true;
            try {
              const { value, options } = fields.read();
              announce("Saving…");
              await kv.put(where.id, where.key, value === null ? await fetchWhole() : value, options);
              announce(`Saved ${where.key}.`);
              await renderValue(main, where, context);
              main.querySelector("h1")?.focus();
            } catch (error) {
              showError(problem, error.message);
            }
          },
        },
      },
      h("h2", {}, "Edit"),
      editable ? null : h("p", { class: "hint" }, "This value is binary or too large to edit as text here: keep it, or replace it with text or a file."),
      fields.nodes,
      problem,
      h("button", { type: "submit", class: "primary" }, "Save"),
    );
  }
}

export async function renderNewPair(main, where, context) {
  const namespace = await kv.getNamespace(where.id);
  if (!context.canWrite) {
    replace(main, h("h1", {}, "Add a pair"), h("p", {}, "A read-only token cannot write."));
    return;
  }
  const key = h("input", { type: "text", required: true, autocomplete: "off", spellcheck: false });
  const fields = pairFields({ text: "", canKeep: false });
  const problem = errorLine();
  const form = h(
    "form",
    {
      class: "editor",
      on: {
        submit: async (event) => {
          event.preventDefault();
          problem.hidden = true;
          try {
            const { value, options } = fields.read();
            const existing = await kv.metadata(where.id, key.value);
            if (existing !== undefined) {
              const sure = await confirmDialog({
                title: "Overwrite this key?",
                message: `${namespace.title} already holds this key. Its value, metadata and expiration will be replaced:`,
                details: [key.value],
                confirm: "Overwrite",
                danger: true,
              });
              if (!sure) return;
            }
            await kv.put(where.id, key.value, value, options);
            announce(`Saved ${key.value}.`);
            context.go(keyHash(where.id, key.value));
          } catch (error) {
            showError(problem, error.message);
          }
        },
      },
    },
    field("Key", key, "1 to 512 bytes of UTF-8."),
    fields.nodes,
    problem,
    h("button", { type: "submit", class: "primary" }, "Save pair"),
  );
  replace(
    main,
    h("nav", { class: "crumbs", attrs: { "aria-label": "Breadcrumb" } }, h("a", { href: "#/" }, "Namespaces"), " / ", h("a", { href: `#/ns/${encodeURIComponent(where.id)}` }, namespace.title), " /"),
    h("h1", {}, "Add a pair"),
    form,
  );
}
