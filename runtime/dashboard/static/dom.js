// Building the page: elements from plain data, text always as text.
//
// Keys, values, metadata and titles are anyone's text. Nothing here parses HTML: children become
// text nodes, attributes are set one by one, and the page's Content-Security-Policy (Trusted Types)
// makes the browser refuse innerHTML outright, so a stray use would fail loudly instead of running.

const SAFE_HREF = /^(#|blob:|\/__workerhost\/|\/client\/v4\/)/;
// Set as properties; everything else goes through setAttr, which refuses handlers and odd URLs.
const PROPERTIES = new Set([
  "value", "checked", "disabled", "type", "id", "name", "hidden", "multiple", "accept", "required",
  "placeholder", "htmlFor", "tabIndex", "rows", "readOnly", "min", "max", "step", "selected", "title",
  "autocomplete", "spellcheck", "download", "colSpan", "scope", "open", "maxLength", "inputMode",
]);

/** An element: h("button", {class: "x", on: {click}, attrs: {"aria-label": ...}}, "text", child, [more]). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "on") {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else if (name === "attrs") {
      for (const [attr, text] of Object.entries(value)) setAttr(element, attr, text);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "text") {
      element.textContent = String(value);
    } else if (name === "class") {
      element.className = value;
    } else if (PROPERTIES.has(name)) {
      element[name] = value;
    } else {
      setAttr(element, name, value);
    }
  }
  append(element, children);
  return element;
}

function setAttr(element, name, value) {
  if (value === undefined || value === null || value === false) return;
  const lower = String(name).toLowerCase();
  if (lower.startsWith("on") || lower === "srcdoc" || lower === "style") throw new Error(`refused attribute ${name}`);
  const text = value === true ? "" : String(value);
  if ((lower === "href" || lower === "src" || lower === "action") && !SAFE_HREF.test(text)) {
    throw new Error(`refused ${name} ${text.slice(0, 40)}`);
  }
  element.setAttribute(name, text);
}

/** Add children (strings become text nodes; null and false are skipped; arrays are flattened). */
export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replace an element's content. */
export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

/** Say something to screen readers and sighted users alike (the page's live region). */
export function announce(message, kind = "info") {
  const region = document.getElementById("status");
  region.dataset.kind = kind;
  region.textContent = "";
  // A fresh text node after a tick, so the same message twice is announced twice.
  setTimeout(() => {
    region.textContent = message;
  }, 20);
}

/** Copy text to the clipboard, saying so. */
export async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    announce(`Copied ${what}.`);
  } catch (error) {
    announce(`Could not copy ${what}: ${error.message}`, "error");
  }
}

/** Offer a Blob as a file download. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename || "download", class: "hidden" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file name for a key: what it says, without path separators or control characters. */
export function fileNameFor(key, suffix = "") {
  const cleaned = key.replace(/[\\/:*?"<>|\u0000-\u001f\u007f]+/g, "_").replace(/^\.+/, "_");
  return (cleaned.slice(0, 120) || "value") + suffix;
}

const UNITS = ["B", "KiB", "MiB", "GiB"];

/** 1536 → "1.5 KiB". */
export function formatBytes(count) {
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** A count with thousands separators. */
export function formatCount(count) {
  return new Intl.NumberFormat("en-US").format(count);
}

/** Seconds since the epoch → "2026-01-01 12:00:00 UTC". */
export function formatTime(seconds) {
  return `${new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "")} UTC`;
}

/** Seconds since the epoch → "in 5 min" / "3 h ago". */
export function formatRelative(seconds) {
  const delta = Math.round(seconds - Date.now() / 1000);
  const size = Math.abs(delta);
  const [amount, unit] =
    size < 60 ? [size, "s"] : size < 3600 ? [Math.round(size / 60), "min"] : size < 86400 ? [Math.round(size / 3600), "h"] : [Math.round(size / 86400), "d"];
  return delta >= 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
}

/** Focus an element that is not focusable by itself (a heading after navigation). */
export function focusHeading(element) {
  if (!element) return;
  element.setAttribute("tabindex", "-1");
  element.focus({ preventScroll: false });
}
