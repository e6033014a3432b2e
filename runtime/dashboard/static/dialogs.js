// Modal dialogs: confirmations and one-field prompts, on the browser's own <dialog>.
//
// showModal() keeps focus inside the dialog and makes the rest of the page inert; Escape cancels.
// Focus starts on the first field (or on the safe choice of a confirmation) and goes back to
// whatever had it before, so keyboard users keep their place.

import { h } from "./dom.js";

function open(build) {
  const opener = document.activeElement;
  const dialog = h("dialog", { class: "dialog" });
  return new Promise((resolve) => {
    let answered = false;
    const finish = (answer) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      resolve(answer);
    };
    const focus = build(dialog, finish);
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    (focus || dialog).focus();
  });
}

let counter = 0;
const nextId = (stem) => `${stem}-${(counter += 1)}`;

/** Ask before doing something; resolves true only if the user confirms. */
export function confirmDialog({ title, message, details = [], confirm = "Confirm", danger = false }) {
  return open((dialog, finish) => {
    const heading = nextId("dialog-title");
    const cancelButton = h("button", { type: "button", on: { click: () => finish(false) } }, "Cancel");
    const confirmButton = h(
      "button",
      { type: "button", class: danger ? "danger" : "primary", on: { click: () => finish(true) } },
      confirm,
    );
    dialog.setAttribute("aria-labelledby", heading);
    dialog.append(
      h("h2", { id: heading }, title),
      h("p", {}, message),
      details.length ? h("ul", { class: "details" }, details.map((item) => h("li", {}, h("code", {}, item)))) : null,
      h("div", { class: "dialog-actions" }, cancelButton, confirmButton),
    );
    return danger ? cancelButton : confirmButton;
  }).then((answer) => answer === true);
}

/** Ask for one line of text; resolves with it, or null if cancelled. */
export function promptDialog({ title, label, value = "", submit = "Save" }) {
  return open((dialog, finish) => {
    const heading = nextId("dialog-title");
    const fieldId = nextId("dialog-field");
    const input = h("input", { id: fieldId, type: "text", value, required: true, autocomplete: "off" });
    const form = h(
      "form",
      {
        on: {
          submit: (event) => {
            event.preventDefault();
            finish(input.value);
          },
        },
      },
      h("h2", { id: heading }, title),
      h("label", { htmlFor: fieldId }, label),
      input,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { type: "button", on: { click: () => finish(null) } }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, submit),
      ),
    );
    dialog.setAttribute("aria-labelledby", heading);
    dialog.append(form);
    return input;
  });
}
