// The sfnflow execution viewer: one ES module, no build step (functions/api/viewer.py).
// Every call goes to this API's own routes with the x-api-key the person typed once
// (kept in sessionStorage: this tab only). Routes other engineers' stacks may lack
// (stats, cost, logs) answer 404, shown as "not available".

const BASE = location.pathname.replace(/\/viewer\/?$/, "");
const KEY = "sfnflow.apiKey";
const OK = new Set(["success", "reused", "pinned", "cached"]);
const ENDED = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]);
const COLOURS = { success: "#a5d6a7", passed: "#c8e6c9", error: "#ef9a9a", running: "#90caf9",
                  waiting: "#ffe082", idle: "#eeeeee" };
const RUNS_PER_PAGE = 5;
const ITEMS_PER_PAGE = 20;
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

class Unauthorized extends Error {}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "onclick") node.addEventListener("click", value);
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

async function call(path, options = {}) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new Unauthorized();
  const headers = { "x-api-key": key, ...(options.body ? { "content-type": "application/json" } : {}) };
  const response = await fetch(BASE + path, { ...options, headers });
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(KEY);
    throw new Unauthorized();
  }
  return response;
}

async function json(path, options) {
  const response = await call(path, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message || `${path}: HTTP ${response.status}`);
  return body;
}

async function optional(path) {  // null when the route is not there (404)
  const response = await call(path);
  if (response.status === 404) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message || `${path}: HTTP ${response.status}`);
  return body;
}

const badge = (status) => el("span", { class: `badge ${status}` }, String(status ?? "—"));
const ms = (value) => value == null ? "—" : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`;
const elapsed = (from, to) => from ? ms(Date.parse(to || new Date().toISOString()) - Date.parse(from)) : "—";
const link = (hash, text) => el("a", { href: hash }, text);

function scalars(object) {  // a flat object as a definition list, the rest as JSON
  const list = el("dl");
  for (const [name, value] of Object.entries(object || {})) {
    list.append(el("dt", {}, name), el("dd", {}, typeof value === "object" && value !== null
      ? el("pre", {}, JSON.stringify(value, null, 1)) : String(value)));
  }
  return list;
}

// ------------------------------------------------------------------ views

async function showWorkflows() {
  const page = await json("/workflows?limit=100");
  crumbs();
  return [el("h2", {}, "Workflows"), el("table", {},
    el("tr", {}, ["Workflow", "Version", "Active", "Updated"].map((h) => el("th", {}, h))),
    page.items.map((w) => el("tr", {},
      el("td", {}, link(`#/workflows/${enc(w.id ?? w.workflowId)}`, w.name ?? w.id ?? w.workflowId)),
      el("td", {}, String(w.version ?? "")), el("td", {}, String(w.active ?? "")),
      el("td", {}, w.updatedAt ?? w.createdAt ?? ""))))];
}

async function showWorkflow(id, filters) {
  const query = new URLSearchParams({ workflowId: id, limit: "50" });
  for (const name of ["status", "from", "to"]) if (filters.get(name)) query.set(name, filters.get(name));
  const [executions, stats] = await Promise.all([json(`/executions?${query}`),
    optional(`/workflows/${enc(id)}/stats`)]);
  crumbs([`#/workflows/${enc(id)}`, id]);
  const status = el("select", { name: "status" }, el("option", { value: "" }, "any status"),
    [...ENDED, "RUNNING"].map((s) => el("option", s === filters.get("status")
      ? { value: s, selected: "" } : { value: s }, s)));
  const from = el("input", { name: "from", type: "datetime-local", value: filters.get("from")?.slice(0, 16) });
  const to = el("input", { name: "to", type: "datetime-local", value: filters.get("to")?.slice(0, 16) });
  const form = el("form", { class: "filters" }, status, "from", from, "to", to,
    el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (status.value) next.set("status", status.value);
    if (from.value) next.set("from", new Date(from.value).toISOString());
    if (to.value) next.set("to", new Date(to.value).toISOString());
    location.hash = `#/workflows/${enc(id)}?${next}`;
  });
  return [el("h2", {}, id), form, el("table", { id: "executions", "data-status": filters.get("status") ?? "" },
    el("tr", {}, ["Execution", "Status", "Mode", "Started", "Duration"].map((h) => el("th", {}, h))),
    executions.items.map((e) => el("tr", {},
      el("td", {}, link(`#/executions/${enc(e.id)}`, e.id)), el("td", {}, badge(e.status)),
      el("td", {}, e.mode ?? ""), el("td", {}, e.startedAt ?? ""),
      el("td", {}, elapsed(e.startedAt, e.stoppedAt))))),
    el("h3", {}, "Statistics"),
    stats ? scalars(stats) : el("p", { class: "muted", id: "stats" }, "Statistics: not available")];
}

// ------------------------------------------------------------------ one execution

let shown = null;  // { id, execution, waits, running: Set, svg, selected }
let stream = null;

async function showExecution(id) {
  const execution = await json(`/executions/${enc(id)}`);
  const [picture, waits, cost, logs] = await Promise.all([
    call(`/workflows/${enc(execution.workflowId)}/graph${execution.workflowVersion ? `?version=${enc(execution.workflowVersion)}` : ""}`)
      .then((r) => r.ok ? r.text() : null),
    json(`/executions/${enc(id)}/waits`).then((b) => b.items).catch(() => []),
    optional(`/executions/${enc(id)}/cost`), optional(`/executions/${enc(id)}/logs`)]);
  crumbs([`#/workflows/${enc(execution.workflowId)}`, execution.workflowId], [`#/executions/${enc(id)}`, id]);
  const canvas = el("div", { class: "canvas" });
  if (picture) {
    const parsed = new DOMParser().parseFromString(picture, "image/svg+xml").documentElement;
    canvas.append(document.importNode(parsed, true));
  } else canvas.append(el("p", { class: "muted" }, "The graph is not available."));
  shown = { id, execution, waits, running: new Set(), canvas, logs, selected: null };
  canvas.addEventListener("click", (event) => {
    const name = event.target.closest?.("rect[data-node]")?.getAttribute("data-node");
    if (name) showNode(name, 0);
  });
  const summary = el("div", { id: "summary" });
  const actions = el("div", { class: "actions", id: "actions" });
  const costPanel = cost ? costView(cost) : el("p", { class: "muted", id: "cost" }, "Cost: not available");
  const logLink = logs ? el("a", { href: "#", id: "logs", onclick: (e) => { e.preventDefault(); showLogs(); } }, "Logs")
    : el("span", { class: "muted", id: "logs" }, "Logs: not available");
  const page = [el("h2", {}, `Execution ${id}`), summary, actions,
    el("div", { class: "layout" }, canvas, el("aside", { id: "panel" })),
    el("h3", {}, "Cost and logs"), costPanel, el("p", {}, logLink)];
  return page;
}

function costView(cost) {  // the total first, every detail the route gives below it
  const total = cost.total ?? cost.totalUsd ?? cost.amount;
  return el("div", {}, el("p", { id: "cost" }, total == null ? "Cost" : `Total: ${total} ${cost.currency ?? ""}`),
    el("details", {}, el("summary", {}, "Details"), scalars(cost)));
}

function nodeSummaries(runs) {
  const byNode = new Map();
  for (const run of runs) {
    const s = byNode.get(run.node) ?? { runs: 0, ms: 0, in: 0, out: 0, failed: false, status: "success" };
    s.runs += 1;
    s.ms += run.durationMs ?? 0;
    s.in += (run.inputCounts ?? []).reduce((a, b) => a + b, 0);
    s.out += (run.outputCounts ?? []).reduce((a, b) => a + b, 0);
    if (!OK.has(run.status)) s.status = run.status === "error" ? "error" : run.status;
    byNode.set(run.node, s);
  }
  return byNode;
}

// While an execution runs, native nodes (Pass, Choice, Wait states) have no runs yet: their
// runs are read from the history when it ends. A node with no run that some node after it
// has reached (a run, a wait, a start) has run too.
function passedNodes(summaries, paused, running) {
  const reached = new Set([...summaries.keys(), ...paused, ...running]);
  const passed = new Set();
  const edges = [...shown.canvas.querySelectorAll("path.edge[data-from]")]
    .map((edge) => [edge.getAttribute("data-from"), edge.getAttribute("data-to")]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [from, to] of edges) {
      if ((reached.has(to) || passed.has(to)) && !reached.has(from) && !passed.has(from)) {
        passed.add(from);
        grew = true;
      }
    }
  }
  return passed;
}

function paint() {  // colours, counts, summary and buttons from `shown`
  const { execution, waits, running, canvas } = shown;
  const summaries = nodeSummaries(execution.nodeRuns ?? []);
  const paused = new Set(waits.filter((w) => w.status === "waiting").map((w) => w.node));
  const passed = ENDED.has(execution.status) ? new Set() : passedNodes(summaries, paused, running);
  for (const rect of canvas.querySelectorAll("rect[data-node]")) {
    const name = rect.getAttribute("data-node");
    const s = summaries.get(name);
    const status = paused.has(name) ? "waiting" : running.has(name) && !s ? "running"
      : s ? (s.status in COLOURS ? s.status : "error") : passed.has(name) ? "passed" : "idle";
    rect.setAttribute("fill", COLOURS[status]);
    rect.setAttribute("data-status", status);
    let label = rect.parentNode.querySelector("text.runs");
    if (!label) {
      label = document.createElementNS("http://www.w3.org/2000/svg", "text");
      label.setAttribute("class", "runs");
      label.setAttribute("text-anchor", "middle");
      label.setAttribute("x", Number(rect.getAttribute("x")) + Number(rect.getAttribute("width")) / 2);
      label.setAttribute("y", Number(rect.getAttribute("y")) + Number(rect.getAttribute("height")) + 12);
      rect.parentNode.append(label);
    }
    label.setAttribute("data-node-runs", name);
    label.textContent = s ? `${s.runs} run${s.runs === 1 ? "" : "s"} · ${ms(s.ms)} · ${s.in}→${s.out} items`
      : status === "waiting" ? "waiting for a decision" : status === "running" ? "running…"
        : status === "passed" ? "ran (recorded when the execution ends)" : "";
  }
  const error = execution.error;
  $("summary").replaceChildren(...[badge(execution.status), " ",
    el("span", {}, `started ${execution.startedAt ?? "—"} · ${elapsed(execution.startedAt, execution.stoppedAt)}`),
    execution.replayOf ? el("span", {}, " · replay of ", link(`#/executions/${enc(execution.replayOf)}`, execution.replayOf)) : null,
    execution.retryOf ? el("span", {}, " · retry of ", link(`#/executions/${enc(execution.retryOf)}`, execution.retryOf)) : null,
    error ? el("p", { class: "error-text", id: "execution-error" },
      `${error.type ?? "Error"}${error.node ? ` in ${error.node}` : ""}: ${error.message ?? ""}`) : null,
  ].filter(Boolean));
  const buttons = [];
  const act = (label, path, body) => el("button", { type: "button", onclick: () => control(path, body) }, label);
  const base = `/executions/${enc(execution.id)}`;
  if (!ENDED.has(execution.status)) buttons.push(act("Cancel", `${base}/cancel`));
  if (["FAILED", "TIMED_OUT", "ABORTED"].includes(execution.status)) buttons.push(act("Retry from failure", `${base}/retry`));
  if (ENDED.has(execution.status)) buttons.push(act("Replay", `${base}/replay`, {}));
  for (const wait of waits.filter((w) => w.status === "waiting" && w.approveUrl)) {
    buttons.push(act(`Approve (${wait.node})`, `${base}/approve/${enc(wait.waitId)}`),
      act(`Reject (${wait.node})`, `${base}/reject/${enc(wait.waitId)}`));
  }
  $("actions").replaceChildren(...buttons);
}

async function control(path, body) {
  try {
    const answer = await json(path, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body) });
    if (answer?.executionId && answer.executionId !== shown.execution.id) {
      location.hash = `#/executions/${enc(answer.executionId)}`;
    } else {
      await refresh();
      if (ENDED.has(shown.execution.status)) { stop(); settle(shown.id); } else follow(shown.id);
    }
  } catch (error) { report(error); }
}

let pending = null;
function refresh() {  // at most one reload at a time; events arriving meanwhile join it
  pending ??= (async () => {
    try {
      const id = shown.id;
      const [execution, waits] = await Promise.all([json(`/executions/${enc(id)}`),
        json(`/executions/${enc(id)}/waits`).then((b) => b.items).catch(() => [])]);
      if (shown?.id !== id) return;
      Object.assign(shown, { execution, waits });
      for (const run of execution.nodeRuns ?? []) shown.running.delete(run.node);
      paint();
      if (shown.selected) showNode(shown.selected, 0);
    } finally { pending = null; }
  })();
  return pending;
}

async function follow(id) {  // live progress: SSE under `sfnflow serve`, WebSocket in AWS
  stop();
  const onEvent = (data) => {
    if (shown?.id !== id) return;
    if (data.type === "nodeStarted") { shown.running.add(data.node); paint(); }
    if (data.type === "executionFinished") { stop(); settle(id); } else refresh();
  };
  let url = null;
  try {
    url = (await json("/stream-tokens", { method: "POST", body: JSON.stringify({ executionId: id }) })).url;
  } catch (error) { if (error instanceof Unauthorized) throw error; }
  if (url?.startsWith("ws")) {
    const socket = new WebSocket(url);
    socket.onmessage = (message) => onEvent(JSON.parse(message.data));
    stream = { close: () => socket.close() };
  } else if (url) {
    // the stream route is this API's own: same origin as the page, whatever host it was opened by
    const at = new URL(url);
    const source = new EventSource(BASE + at.pathname.slice(at.pathname.indexOf("/executions/")) + at.search);
    source.addEventListener("progress", (message) => onEvent(JSON.parse(message.data)));
    source.onerror = () => { if (ENDED.has(shown?.execution.status)) stop(); };
    stream = source;
  } else {  // no live stream configured: poll
    const timer = setInterval(() => refresh().then(() => {
      if (ENDED.has(shown?.execution.status)) { stop(); settle(id); }
    }), 2000);
    stream = { close: () => clearInterval(timer) };
  }
}

// The runs of native nodes (Pass, Choice, Wait states) are read from the history after
// the final status is recorded, and their events sort before the execution's end: read
// the execution again a few times once it has ended.
async function settle(id) {
  for (const delay of [0, 300, 1000, 3000]) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (shown?.id !== id) return;
    await refresh();
  }
}

function stop() { stream?.close(); stream = null; }

async function showNode(name, offset) {
  shown.selected = name;
  for (const rect of shown.canvas.querySelectorAll("rect[data-node]")) {
    rect.classList.toggle("selected", rect.getAttribute("data-node") === name);
  }
  const panel = $("panel");
  const runs = shown.execution.nodeRuns?.filter((r) => r.node === name) ?? [];
  if (!runs.length) {
    panel.replaceChildren(el("h3", {}, name), el("p", { class: "muted" }, "No runs yet."));
    return;
  }
  const page = await json(`/executions/${enc(shown.id)}/nodes/${enc(name)}?offset=${offset}&limit=${RUNS_PER_PAGE}`);
  panel.replaceChildren(...[el("h3", {}, name), ...page.items.map((run) => runView(name, run)),
    offset > 0 ? el("button", { type: "button", onclick: () => showNode(name, Math.max(0, offset - RUNS_PER_PAGE)) }, "Earlier runs") : null,
    page.nextOffset != null ? el("button", { type: "button", onclick: () => showNode(name, page.nextOffset) }, "Later runs") : null,
  ].filter(Boolean));
}

function runView(name, run) {
  const box = el("section", { class: "run" }, el("h4", {}, `Run ${run.runIndex ?? 0} `, badge(run.status)),
    scalars({ attempts: run.attempts, duration: ms(run.durationMs), "items in": (run.inputCounts ?? []).join(" + ") || "0",
              "items out": (run.outputCounts ?? []).join(" + ") || "0", started: run.startedAt }));
  if (run.error) box.append(el("p", { class: "error-text" }, `${run.error.type ?? "Error"}: ${run.error.message ?? ""}`));
  if (run.logs?.length) box.append(el("pre", {}, run.logs.join("\n")));
  if (run.outputUrl) box.append(el("p", {}, el("a", { href: run.outputUrl }, `Output (${run.outputBytes} bytes)`)));
  box.append(...inputButtons(name, run));
  (run.output ?? []).forEach((items, port) => box.append(itemsView(`Output ${port}`, items ?? [], 0)));
  return box;
}

// Input items are not stored twice: they are the output of the node behind each incoming
// edge (the graph's data-from/data-output), from its last run before this one started.
function inputButtons(name, run) {
  const edges = shown.canvas.querySelectorAll(`path.edge[data-to="${CSS.escape(name)}"]`);
  return [...edges].map((edge) => {
    const from = edge.getAttribute("data-from");
    const port = Number(edge.getAttribute("data-output"));
    const button = el("button", { type: "button", class: "input" }, `Input ${edge.getAttribute("data-input")} from ${from}`);
    button.addEventListener("click", async () => button.replaceWith(await inputItems(from, port, run)));
    return button;
  });
}

async function inputItems(from, port, run) {
  const page = await json(`/executions/${enc(shown.id)}/nodes/${enc(from)}?limit=1000`).catch(() => null);
  const runs = page?.items ?? [];
  const source = runs.filter((r) => !run.startedAt || (r.finishedAt ?? "") <= run.startedAt).at(-1) ?? runs.at(-1);
  if (!source) return el("p", { class: "muted" }, `${from} has no recorded output`);
  return itemsView(`Input from ${from} (output ${port}, run ${source.runIndex ?? 0})`, source.output?.[port] ?? [], 0);
}

function itemsView(title, items, start) {  // items, ITEMS_PER_PAGE at a time
  const holder = el("div", { class: "items" });
  const end = Math.min(items.length, start + ITEMS_PER_PAGE);
  holder.append(el("strong", {}, `${title}: ${items.length} item${items.length === 1 ? "" : "s"}`),
    el("pre", {}, JSON.stringify(items.slice(start, end), null, 1)));
  if (items.length > ITEMS_PER_PAGE) {
    holder.append(el("span", { class: "muted" }, ` ${start + 1}–${end} `),
      start > 0 ? el("button", { type: "button", onclick: () => holder.replaceWith(itemsView(title, items, start - ITEMS_PER_PAGE)) }, "‹") : null,
      end < items.length ? el("button", { type: "button", onclick: () => holder.replaceWith(itemsView(title, items, end)) }, "›") : null);
  }
  return holder;
}

async function showLogs() {
  const logs = await optional(`/executions/${enc(shown.id)}/logs`);
  $("panel").replaceChildren(el("h3", {}, "Logs"), logs ? el("pre", {}, JSON.stringify(logs, null, 1))
    : el("p", { class: "muted" }, "Logs: not available"));
}

// ------------------------------------------------------------------ shell

function crumbs(...parts) {
  $("crumbs").replaceChildren(...parts.flatMap(([hash, text]) => [" / ", link(hash, text)]));
}

function report(error) {
  if (error instanceof Unauthorized) { askForKey(); return; }
  $("message").textContent = error.message;
}

function askForKey() {
  stop();
  $("view").replaceChildren();
  $("forget").hidden = true;
  $("key-form").hidden = false;
  $("key").focus();
}

async function route() {
  stop();
  shown = null;
  $("message").textContent = "";
  if (!sessionStorage.getItem(KEY)) { askForKey(); return; }
  $("key-form").hidden = true;
  $("forget").hidden = false;
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    const view = parts[0] === "workflows" && parts[1] ? await showWorkflow(parts[1], new URLSearchParams(query))
      : parts[0] === "executions" && parts[1] ? await showExecution(parts[1])
        : await showWorkflows();
    $("view").replaceChildren(...view);
    if (shown) {  // an execution: colour it, and follow it while it runs
      paint();
      if (!ENDED.has(shown.execution.status)) await follow(shown.id);
    }
  } catch (error) { report(error); }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("key").value);
  $("key").value = "";
  route();
});
$("forget").addEventListener("click", () => { sessionStorage.removeItem(KEY); askForKey(); });
window.addEventListener("hashchange", route);
route();
