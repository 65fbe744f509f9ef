// The coach's view of one scored drill attempt or call: transcript with key
// phrases marked and the latency of each answer, seeking in the recording
// from a segment, and overrides with their history (/api/v1/overrides).

import {
  describe, el, getJson, mountLogin, recall, remember, requireToken, say, clock, token,
} from "./api.js";
import {
  bestStrategy, latencyBadge, markedWords, matchedOccurrences, renderPhrases, segmentNodes,
  wordSeparator,
} from "./score.js";

/** Records listed from the team, newest first. */
const TEAM_RECORDS_LIMIT = 50;
const RECENT_KEY = "coach.recent";
const MAX_RECENT = 12;
const $ = (id) => document.getElementById(id);
const state = { kind: null, id: null, record: null };

/** Loads a drill attempt or call and shows it with its override history. */
async function open(kind, id) {
  const message = $("page-message");
  say(message, "");
  if (!requireToken(message)) {
    return;
  }
  try {
    const path = kind === "drill" ? "/drills/attempts/" : "/calls/";
    const record = await getJson(path + encodeURIComponent(id));
    state.kind = kind;
    state.id = id;
    state.record = kind === "drill" ? drillView(record) : callView(record);
    showRecord(state.record);
    rememberRecent(kind, id, state.record);
    await loadHistory();
    const url = new URL(window.location.href);
    url.searchParams.set("kind", kind);
    url.searchParams.set("id", id);
    history.replaceState(null, "", url);
  } catch (err) {
    say(message, `The ${kind} could not be opened: ${describe(err)}`, "error");
  }
}

function drillView(attempt) {
  const score = attempt.result;
  const strategy = bestStrategy(score);
  const marks = score ? markedWords(score.transcript, matchedOccurrences(strategy)) : new Map();
  const segments = score ? score.transcript.segments : [];
  const separator = score ? wordSeparator(score.transcript) : " ";
  return {
    audio: attempt.audio_url || null,
    rep: attempt.rep_id,
    scenario: attempt.scenario_id,
    when: attempt.created_at,
    score: attempt.overall_score,
    scored: Boolean(attempt.scored_at),
    strategies: strategy ? [strategy] : [],
    lines: segments.map((segment, index) => ({
      start_ms: segment.start_ms,
      speaker: "Rep",
      nodes: segmentNodes(segment, marks, separator),
      latency: index === 0 ? score.latency : null,
    })),
  };
}

function callView(call) {
  const analysis = call.analysis;
  const turns = analysis ? analysis.turns : [];
  const byRepTurn = new Map();
  for (const exchange of analysis ? analysis.exchanges : []) {
    if (exchange.rep_turn !== null && exchange.rep_turn !== undefined) {
      byRepTurn.set(exchange.rep_turn, exchange);
    }
  }
  const strategies = [];
  const lines = turns.map((turn) => {
    const exchange = byRepTurn.get(turn.index);
    const strategy = exchange && exchange.score ? bestStrategy(exchange.score) : null;
    if (strategy) {
      strategies.push(strategy);
    }
    return {
      start_ms: turn.start_ms,
      speaker: turn.speaker === "rep" ? "Rep" : "Customer",
      nodes: markText(turn.text, matchedOccurrences(strategy)),
      latency: exchange ? exchange.response : null,
    };
  });
  const scores = call.scenario_scores.map(([, score]) => score);
  return {
    audio: `/api/v1/calls/${encodeURIComponent(call.id)}/audio`,
    rep: call.rep_id,
    scenario: call.scenario_scores.map(([id, s]) => `${id} (${s.toFixed(1)})`).join(", ") || "–",
    when: call.occurred_at,
    score: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
    scored: Boolean(call.analyzed_at),
    strategies,
    lines,
  };
}

/** Marks the matched forms of `occurrences` inside a turn's plain text. */
function markText(text, occurrences) {
  const forms = occurrences.map((o) => o.form_text).filter(Boolean);
  if (forms.length === 0) {
    return [text];
  }
  const escaped = forms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(${escaped.join("|")})`, "gi");
  return text.split(pattern).map((part, i) =>
    (i % 2 === 1 ? el("mark", { class: "matched" }, part) : part));
}

// An <audio> element cannot send the Authorization header, so the
// recording route takes the token as ?access_token=.
function showPlayer(audioUrl) {
  const player = $("player");
  if (!audioUrl) {
    player.removeAttribute("src");
    player.load();
    $("audio-state").textContent = "The recording is not available for playback.";
    return;
  }
  const url = new URL(audioUrl, window.location.origin);
  url.searchParams.set("access_token", token());
  player.src = url.pathname + url.search;
  $("audio-state").textContent = "";
}

/** Lists the scored records of the caller's team, from /me and /teams/{id}/records. */
async function loadTeamRecords() {
  const stateText = $("team-records-state");
  const body = $("team-records");
  body.replaceChildren();
  try {
    const me = await getJson("/me");
    if (me.role === "rep") {
      stateText.textContent = "Team records are listed for coaches, managers and admins.";
      return;
    }
    if (!me.team_id) {
      stateText.textContent = "Your account has no team, so no team records are listed.";
      return;
    }
    const query = new URLSearchParams({ limit: String(TEAM_RECORDS_LIMIT) });
    const records = await getJson(`/teams/${encodeURIComponent(me.team_id)}/records?${query}`);
    const count = records.length === 1 ? "1 scored record" : `${records.length} scored records`;
    stateText.textContent = `Team ${me.team_name}: ${count}, newest first.`;
    body.replaceChildren(...records.map(teamRecordRow));
  } catch (err) {
    stateText.textContent = `The team records could not be loaded: ${describe(err)}`;
  }
}

function teamRecordRow(record) {
  const score = record.overall_score;
  return el("tr", { "data-record-id": record.id },
    el("td", {}, record.kind),
    el("td", { class: "id" }, el("a", {
      href: `/coach?kind=${record.kind}&id=${encodeURIComponent(record.id)}`,
      onclick: (event) => { event.preventDefault(); open(record.kind, record.id); },
    }, record.id)),
    el("td", {}, record.rep_name),
    el("td", {}, record.scenario_id || "–"),
    el("td", {}, typeof score === "number" ? score.toFixed(1) : "–"),
    el("td", {}, record.created_at.replace("T", " ").replace("Z", " UTC")));
}

function showRecord(view) {
  $("record").hidden = false;
  $("override").hidden = false;
  $("record-score").textContent = typeof view.score === "number" ? view.score.toFixed(1) : "–";
  $("record-rep").textContent = view.rep;
  $("record-scenario").textContent = view.scenario;
  $("record-when").textContent = view.when.replace("T", " ").replace("Z", " UTC");
  showPlayer(view.audio);
  const list = $("segments");
  list.replaceChildren(...view.lines.map((line) => el("li", {},
    el("button", { type: "button", class: "seek", onclick: () => seek(line.start_ms),
      "aria-label": `Play from ${clock(line.start_ms)}` },
    el("span", { class: "time" }, clock(line.start_ms)),
    el("span", { class: "speaker" }, `${line.speaker}:`),
    ...line.nodes.flat(),
    line.latency ? latencyBadge(line.latency) : null))));
  if (view.lines.length === 0) {
    list.append(el("li", { class: "muted" }, view.scored ? "No speech was recognised."
      : "Not scored yet: the transcription job is still queued or running."));
  }
  renderPhrases($("phrases"), mergedStrategy(view.strategies));
  fillOverrideFields(view.strategies);
}

function mergedStrategy(strategies) {
  if (strategies.length === 0) {
    return null;
  }
  const phrases = strategies.flatMap((s) =>
    s.phrases.map((p) => ({ ...p, strategy_id: s.strategy_id })));
  return { strategy_id: "", phrases };
}

/** Moves the player to a segment start and plays from there. */
function seek(startMs) {
  const player = $("player");
  player.currentTime = startMs / 1000;
  if (player.currentSrc) {
    player.play().catch((err) => say($("page-message"), describe(err), "error"));
  }
}

function fillOverrideFields(strategies) {
  const select = $("override-field");
  const options = [el("option", { value: "overall_score" }, "Overall score")];
  const seen = new Set();
  for (const strategy of strategies) {
    for (const phrase of strategy.phrases) {
      const id = `${strategy.strategy_id}/${phrase.phrase}`;
      if (!seen.has(id)) {
        seen.add(id);
        const said = phrase.matched ? "matched" : "missed";
        options.push(el("option", { value: id }, `Phrase “${phrase.phrase}” (${said})`));
      }
    }
  }
  select.replaceChildren(...options);
  toggleOverrideRows();
}

function toggleOverrideRows() {
  const isScore = $("override-field").value === "overall_score";
  $("score-row").hidden = !isScore;
  $("matched-row").hidden = isScore;
}

async function saveOverride(event) {
  event.preventDefault();
  const message = $("override-message");
  const field = $("override-field").value;
  const form = event.target;
  let change;
  if (field === "overall_score") {
    const score = Number.parseFloat($("override-score").value);
    if (Number.isNaN(score) || score < 0 || score > 100) {
      say(message, "Enter a score from 0 to 100.", "error");
      return;
    }
    change = { field: "overall_score", score };
  } else {
    const matched = form.querySelector("input[name=matched]:checked").value === "true";
    change = { field: "phrase_match", phrase_id: field, matched };
  }
  const comment = $("override-comment").value.trim();
  if (!comment) {
    say(message, "Write a comment: it explains the change to the rep.", "error");
    return;
  }
  try {
    const body = { target_kind: state.kind, target_id: state.id, change, comment };
    const saved = await getJson("/overrides", { method: "POST", json: body });
    say(message, `Override ${saved.seq} saved.`, "ok");
    $("override-comment").value = "";
    await loadHistory();
  } catch (err) {
    say(message, `The override was rejected: ${describe(err)}`, "error");
  }
}

async function loadHistory() {
  const query = new URLSearchParams({ target_kind: state.kind, target_id: state.id });
  const entries = await getJson(`/overrides?${query}`);
  const body = $("history");
  body.replaceChildren(...entries.map((entry) => el("tr", {},
    el("td", {}, entry.seq),
    el("td", {}, entry.created_at.replace("T", " ").replace("Z", "")),
    el("td", { class: "id" }, entry.coach_id),
    el("td", { class: "id" }, describeChange(entry.change)),
    el("td", {}, entry.comment))));
  if (entries.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No overrides yet.")));
  }
  markOverriddenPhrases(entries);
  const latest = [...entries].reverse().find((e) => e.change.field === "overall_score");
  $("record-override").textContent = latest
    ? `Coach score ${Number(latest.change.score).toFixed(1)} (override ${latest.seq})` : "";
}

/** Adds the coach's latest decision to each phrase chip that was overridden. */
function markOverriddenPhrases(entries) {
  const decisions = new Map();
  for (const entry of entries) {
    if (entry.change.field === "phrase_match") {
      decisions.set(entry.change.phrase_id, entry.change.matched);
    }
  }
  for (const chip of document.querySelectorAll("#phrases li[data-phrase-id]")) {
    chip.querySelector(".override-note")?.remove();
    chip.classList.remove("overridden");
    const decision = decisions.get(chip.dataset.phraseId);
    if (decision !== undefined) {
      chip.classList.add("overridden");
      chip.append(el("span", { class: "override-note" },
        ` · coach: ${decision ? "said" : "not said"}`));
    }
  }
}

function describeChange(change) {
  if (change.field === "overall_score") {
    return `overall score → ${Number(change.score).toFixed(1)}`;
  }
  return `${change.phrase_id} → ${change.matched ? "said" : "not said"}`;
}

function rememberRecent(kind, id, view) {
  const entries = recent().filter((e) => !(e.kind === kind && e.id === id));
  entries.unshift({ kind, id, rep: view.rep, scenario: view.scenario, score: view.score,
    scored: view.scored });
  remember(RECENT_KEY, JSON.stringify(entries.slice(0, MAX_RECENT)));
  showRecent();
}

function recent() {
  try {
    const entries = JSON.parse(recall(RECENT_KEY) || "[]");
    return Array.isArray(entries) ? entries : [];
  } catch (_) {
    return [];
  }
}

function showRecent() {
  const rows = recent().map((e) => el("tr", {},
    el("td", {}, e.kind),
    el("td", { class: "id" }, el("a", { href: `/coach?kind=${e.kind}&id=${encodeURIComponent(e.id)}`,
      onclick: (event) => { event.preventDefault(); open(e.kind, e.id); } }, e.id)),
    el("td", { class: "id" }, e.rep),
    el("td", {}, e.scenario),
    el("td", {}, typeof e.score === "number" ? e.score.toFixed(1) : "–"),
    el("td", {}, e.scored ? "yes" : "not yet")));
  $("recent").replaceChildren(...rows);
  if (rows.length === 0) {
    $("recent").append(el("tr", {}, el("td", { colspan: 6, class: "muted" },
      "Open a drill attempt or call by its id; it is listed here afterwards.")));
  }
}

$("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  open($("target-kind").value, $("target-id").value.trim());
});
$("override-field").addEventListener("change", toggleOverrideRows);
$("override-form").addEventListener("submit", saveOverride);
showRecent();
mountLogin($("login"), () => {
  if (!requireToken($("page-message"))) {
    return;
  }
  loadTeamRecords();
  const params = new URLSearchParams(window.location.search);
  const kind = params.get("kind");
  const id = params.get("id");
  if ((kind === "drill" || kind === "call") && id) {
    $("target-kind").value = kind;
    $("target-id").value = id;
    open(kind, id);
  }
});
