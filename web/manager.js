// The manager's page: the team heatmap as inline SVG with XLSX, PNG and SVG
// downloads, and per rep the training tasks, permissions with their audit
// log, and checkpoint evidence.

import {
  describe, download, el, getJson, mountLogin, recall, remember, request, requireToken, say,
  token,
} from "./api.js";

const $ = (id) => document.getElementById(id);
const state = { team: "", windowDays: "30", heatmap: null };

function heatmapPath(format) {
  const query = new URLSearchParams({ format, window_days: state.windowDays });
  return `/teams/${encodeURIComponent(state.team)}/heatmap?${query}`;
}

async function showTeam() {
  const message = $("page-message");
  say(message, "");
  state.team = $("team-id").value.trim();
  state.windowDays = $("window-days").value;
  remember("manager.team", state.team);
  if (!requireToken(message) || !state.team) {
    return;
  }
  try {
    const [heatmap, svgText] = await Promise.all([
      getJson(heatmapPath("json")),
      request(heatmapPath("svg")).then((r) => r.text()),
    ]);
    state.heatmap = heatmap;
    $("heatmap").replaceChildren(inlineSvg(svgText));
    summarise(heatmap);
    document.querySelectorAll("[data-export]").forEach((b) => { b.disabled = false; });
    fillReps(heatmap);
    fillDimensions(heatmap);
    await showRep();
  } catch (err) {
    say(message, `The heatmap could not be loaded: ${describe(err)}`, "error");
  }
}

/** Parses SVG text into a node, dropping scripts and event attributes. */
function inlineSvg(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  if (root.nodeName !== "svg") {
    return el("p", { class: "message error" }, "The heatmap is not a valid SVG image.");
  }
  root.querySelectorAll("script, foreignObject").forEach((n) => n.remove());
  for (const node of [root, ...root.querySelectorAll("*")]) {
    for (const attr of [...node.attributes]) {
      if (attr.name.toLowerCase().startsWith("on")) {
        node.removeAttribute(attr.name);
      }
    }
  }
  return document.importNode(root, true);
}

function summarise(heatmap) {
  const measured = heatmap.cells.filter((c) => c.status === "measured").length;
  const samples = heatmap.cells.reduce((sum, c) => sum + c.samples, 0);
  $("heatmap-summary").textContent = `${heatmap.reps.length} reps, ` +
    `${heatmap.dimensions.length} skills, ${measured} measured cells from ${samples} samples ` +
    `(at least ${heatmap.min_samples} samples make a cell measured).`;
}

function fillReps(heatmap) {
  const select = $("rep");
  const saved = recall("manager.rep");
  select.replaceChildren(...heatmap.reps.map((rep) =>
    el("option", { value: rep.id, selected: rep.id === saved }, `${rep.name} (${rep.id})`)));
  select.disabled = heatmap.reps.length === 0;
  if (heatmap.reps.length === 0) {
    select.append(el("option", { value: "" }, "The team has no reps"));
  }
}

function fillDimensions(heatmap) {
  $("task-dimension").replaceChildren(...heatmap.dimensions.map((d) =>
    el("option", { value: d.id }, `${d.label_en} · ${d.label_zh}`)));
}

async function showRep() {
  const rep = $("rep").value;
  remember("manager.rep", rep);
  if (!rep) {
    return;
  }
  const results = await Promise.allSettled([loadTasks(rep), loadPermissions(rep),
    loadCheckpoints(rep)]);
  const failed = results.filter((r) => r.status === "rejected").map((r) => describe(r.reason));
  if (failed.length) {
    say($("page-message"), `Some of the rep's records could not be loaded: ${failed.join("; ")}`,
      "error");
  }
}

async function loadTasks(rep) {
  const tasks = await getJson(`/reps/${encodeURIComponent(rep)}/training-tasks`);
  const rows = tasks.map((task) => el("tr", {},
    el("td", {}, task.dimension.replaceAll("_", " ")),
    el("td", {}, task.scenario_id || "–"),
    el("td", {}, task.reason),
    el("td", {}, task.status),
    el("td", {}, day(task.assigned_at)),
    el("td", {}, task.status === "open" ? [
      el("button", { type: "button", class: "secondary",
        onclick: () => closeTask(task.id, "done") }, "Done"), " ",
      el("button", { type: "button", class: "secondary",
        onclick: () => closeTask(task.id, "cancelled") }, "Cancel"),
    ] : day(task.closed_at))));
  $("tasks").replaceChildren(...rows);
  if (rows.length === 0) {
    $("tasks").append(empty(6, "No training tasks."));
  }
}

async function assignTask(event) {
  event.preventDefault();
  const rep = $("rep").value;
  const body = { dimension: $("task-dimension").value, reason: $("task-reason").value.trim() };
  try {
    await getJson(`/reps/${encodeURIComponent(rep)}/training-tasks`, { method: "POST", json: body });
    say($("task-message"), "Task assigned.", "ok");
    $("task-reason").value = "";
    await loadTasks(rep);
  } catch (err) {
    say($("task-message"), `The task was rejected: ${describe(err)}`, "error");
  }
}

async function closeTask(id, status) {
  try {
    await getJson(`/training-tasks/${encodeURIComponent(id)}/close`,
      { method: "POST", json: { status } });
    say($("task-message"), `Task marked ${status}.`, "ok");
    await loadTasks($("rep").value);
  } catch (err) {
    say($("task-message"), `The task could not be closed: ${describe(err)}`, "error");
  }
}

async function loadPermissions(rep) {
  showPermissions(await getJson(`/reps/${encodeURIComponent(rep)}/permissions`));
}

function showPermissions(view) {
  const evidence = (entry) => {
    if (entry.rule_id) {
      return `unlock rule ${entry.rule_id}`;
    }
    return entry.actor_id ? `granted by ${entry.actor_id}` : "–";
  };
  const granted = view.granted.map((g) => el("tr", {},
    el("td", {}, g.permission), el("td", {}, day(g.granted_at)),
    el("td", { class: "id" }, evidence(g))));
  $("granted").replaceChildren(...granted);
  if (granted.length === 0) {
    $("granted").append(empty(3, "No permissions granted."));
  }
  const audit = view.audit.map((a) => el("tr", {},
    el("td", {}, day(a.at)), el("td", {}, a.permission), el("td", {}, a.action),
    el("td", { class: "id" }, a.rule_id ? `rule ${a.rule_id}` : a.actor_id || "–"),
    el("td", {}, a.reason)));
  $("audit").replaceChildren(...audit);
  if (audit.length === 0) {
    $("audit").append(empty(5, "No changes recorded."));
  }
}

async function changePermission(event) {
  event.preventDefault();
  const rep = $("rep").value;
  const body = {
    permission: $("permission-name").value.trim(),
    action: $("permission-action").value,
    reason: $("permission-reason").value.trim(),
  };
  try {
    const view = await getJson(`/reps/${encodeURIComponent(rep)}/permissions`,
      { method: "POST", json: body });
    showPermissions(view);
    say($("permission-message"), `${body.permission}: ${body.action} recorded.`, "ok");
  } catch (err) {
    say($("permission-message"), `The change was rejected: ${describe(err)}`, "error");
  }
}

async function loadCheckpoints(rep) {
  const statuses = await getJson(`/reps/${encodeURIComponent(rep)}/checkpoints`);
  const rows = statuses.map((s) => el("tr", {},
    el("td", {}, s.checkpoint_id),
    el("td", {}, s.passed ? `passed ${day(s.passed_at)}` : "not passed"),
    el("td", {}, `${s.counted_calls.length} of ${s.required_calls}`,
      s.counted_calls.length ? el("div", { class: "muted" }, s.counted_calls.join(", ")) : null),
    el("td", {}, day(s.evaluated_at))));
  $("checkpoints").replaceChildren(...rows);
  if (rows.length === 0) {
    $("checkpoints").append(empty(4, "No checkpoint has been evaluated for this rep."));
  }
}

function empty(columns, text) {
  return el("tr", {}, el("td", { colspan: columns, class: "muted" }, text));
}

function day(text) {
  return text ? text.slice(0, 10) : "–";
}

async function exportHeatmap(format) {
  try {
    await download(heatmapPath(format), `heatmap-${state.team}.${format}`);
  } catch (err) {
    say($("page-message"), `The ${format.toUpperCase()} export failed: ${describe(err)}`, "error");
  }
}

$("team-form").addEventListener("submit", (event) => {
  event.preventDefault();
  showTeam();
});
$("rep").addEventListener("change", showRep);
$("task-form").addEventListener("submit", assignTask);
$("permission-form").addEventListener("submit", changePermission);
document.querySelectorAll("[data-export]").forEach((button) => {
  button.addEventListener("click", () => exportHeatmap(button.dataset.export));
});
/** Fills the team field from the URL, else the caller's team from /me, else the last one used. */
async function startWithTeam() {
  const fromUrl = new URLSearchParams(window.location.search).get("team");
  let team = fromUrl || "";
  if (!team && token()) {
    try {
      team = (await getJson("/me")).team_id || "";
    } catch (_) {
      // showTeam reports a rejected token; fall back to the last team used.
    }
  }
  $("team-id").value = team || recall("manager.team");
  await showTeam();
}

mountLogin($("login"), startWithTeam);
