// The workers the host serves (from /__workerhost/status): routes, bindings, the last reload error,
// and a button per cron trigger that runs the scheduled handler now (/__workerhost/scheduled).

import { dashboard } from "./api.js";
import { announce, formatTime, h, replace } from "./dom.js";

function bindingRow(binding) {
  let what = binding.type;
  let detail = "";
  if (binding.type === "kv_namespace") {
    what = "KV namespace";
    detail = h("a", { href: `#/ns/${encodeURIComponent(binding.namespace_id)}` }, binding.title);
  } else if (binding.type === "assets") {
    detail = binding.directory;
  } else if (binding.available === false) {
    detail = binding.note;
  }
  if (binding.fidelity) detail = [detail, ` (fidelity: ${JSON.stringify(binding.fidelity)})`];
  return h("tr", {}, h("th", { scope: "row" }, h("code", {}, `env.${binding.name}`)), h("td", {}, what), h("td", {}, detail));
}

function cronItem(worker, entry, canWrite) {
  const result = h("span", { class: "result", attrs: { "aria-live": "polite" } });
  const next = entry.next_run ? `next ${formatTime(Date.parse(entry.next_run) / 1000)}` : "never: no date matches";
  const run = canWrite
    ? h(
        "button",
        {
          type: "button",
          attrs: { "aria-label": `Run ${worker.name}'s cron ${entry.cron} now` },
          on: {
            click: async () => {
              result.textContent = "running…";
              try {
                const outcome = await dashboard.runCron(worker.name, entry.cron);
                result.textContent = outcome.outcome === "ok" ? "ran: ok" : `ran: ${outcome.error || outcome.outcome}`;
                announce(`${worker.name}: scheduled handler for ${entry.cron} ${outcome.outcome === "ok" ? "ran" : "failed"}.`);
              } catch (error) {
                result.textContent = `failed: ${error.message}`;
                announce(`The scheduled handler failed: ${error.message}`, "error");
              }
            },
          },
        },
        "Run now",
      )
    : null;
  return h("li", {}, h("code", {}, entry.cron), ` (${next}) `, run, " ", result);
}

function workerSection(worker, canWrite) {
  const headingId = `worker-${worker.name}`;
  return h(
    "section",
    { class: "worker", attrs: { "aria-labelledby": headingId } },
    h("h2", { id: headingId }, worker.name),
    h("p", { class: "muted" }, `${worker.script || "assets only"} (${worker.shape})`),
    h("h3", {}, "Routes"),
    h("ul", { class: "routes" }, worker.routes.map((route) => h("li", {}, h("code", {}, route)))),
    h("h3", {}, "Bindings"),
    worker.bindings.length
      ? h(
          "table",
          { class: "grid" },
          h("caption", { class: "visually-hidden" }, `Bindings of ${worker.name}`),
          h("thead", {}, h("tr", {}, ["Name", "Kind", "Details"].map((name) => h("th", { scope: "col" }, name)))),
          h("tbody", {}, worker.bindings.map(bindingRow)),
        )
      : h("p", {}, "None."),
    h("h3", {}, "Cron triggers"),
    worker.schedule.length ? h("ul", { class: "crons" }, worker.schedule.map((entry) => cronItem(worker, entry, canWrite))) : h("p", {}, "None."),
  );
}

export async function renderWorkers(main, _where, context) {
  const status = await dashboard.status();
  const reload = status.reload;
  replace(
    main,
    h("h1", {}, "Workers"),
    h("p", { class: "muted" }, `Version ${status.version ?? "-"} serving since ${status.loaded_at ?? "-"}; ${status.reload.reloads} reloads; config ${status.config}`),
    reload.error
      ? h("div", { class: "reload-error", role: "alert" }, h("h2", {}, "The last reload failed"), h("p", {}, `At ${reload.error_at}; the version above keeps serving.`), h("pre", {}, reload.error))
      : h("p", { class: "ok" }, "The last reload succeeded."),
    status.workers.length ? status.workers.map((worker) => workerSection(worker, context.canWrite)) : h("p", {}, "No workers are configured."),
  );
}
