// The rep's daily drill: today's scenario and customer line, a recorded
// answer uploaded as WAV to POST /api/v1/drills/attempts, and the scored
// feedback once the transcription job is done.

import {
  ApiError, describe, el, getJson, mountLogin, request, requireToken, say, clock, token,
} from "./api.js";
import { WavRecorder } from "./wav.js";
import {
  bestStrategy, describeLatency, matchedOccurrences, renderLatencyBar, renderPhrases,
  renderTranscript,
} from "./score.js";

/** Maximum `wait_ms` of one request, in milliseconds. */
const WAIT_MS = 30000;
/** Polls of a queued attempt before the page gives up. */
const MAX_POLLS = 20;
const COUNTDOWN_TICK_MS = 200;

const $ = (id) => document.getElementById(id);
const state = { prompt: null, recorder: null, timer: null, startedAt: 0 };

async function loadPrompt() {
  const message = $("page-message");
  say(message, "");
  $("record").disabled = true;
  state.prompt = null;
  if (!requireToken(message)) {
    return;
  }
  try {
    const language = $("language").value;
    const prompt = await getJson(`/drills/today?language=${encodeURIComponent(language)}`);
    state.prompt = prompt;
    showPrompt(prompt);
    await showTitles(prompt.scenario_id);
    $("record").disabled = false;
  } catch (err) {
    say(message, `Today's drill could not be loaded: ${describe(err)}`, "error");
  }
}

function showPrompt(prompt) {
  $("drill-date").textContent = `Drill of ${prompt.date}`;
  $("title-en").querySelector("strong").textContent = prompt.title;
  $("customer-line").textContent = prompt.customer_line || "(this scenario has no line in this language)";
  $("customer-line").lang = prompt.language;
  const dimensions = (prompt.dimensions || []).map((d) => String(d).replaceAll("_", " "));
  $("dimensions").textContent = dimensions.length ? `Skills: ${dimensions.join(", ")}` : "";
  $("countdown").textContent = clock(prompt.answer_limit_ms);
  showClip("customer", prompt.customer_audio);
}

async function showTitles(scenarioId) {
  const scenario = await getJson(`/scenarios/${encodeURIComponent(scenarioId)}`);
  $("title-en").querySelector("strong").textContent = scenario.title_en;
  $("title-zh").textContent = scenario.title_zh;
}

// The clip's `url` is the audio route of the line or answer. An <audio>
// element cannot send the Authorization header, so the route takes the
// token as ?access_token=.
function showClip(name, clip) {
  const button = $(`play-${name}`);
  const stateText = $(`${name}-audio-state`);
  button.disabled = true;
  button.dataset.src = "";
  if (!clip || !clip.url) {
    stateText.textContent = "No recording of this line.";
    return;
  }
  const url = new URL(clip.url, window.location.origin);
  url.searchParams.set("access_token", token());
  button.dataset.src = url.pathname + url.search;
  button.disabled = false;
  const length = Math.max(0, clip.end_ms - clip.start_ms);
  stateText.textContent = `Recording of ${(length / 1000).toFixed(1)} s.`;
  if (name === "customer") {
    const player = $("player");
    player.src = button.dataset.src;
    player.preload = "auto";
  }
}

async function playClip(name) {
  const button = $(`play-${name}`);
  const player = $("player");
  const stateText = $(`${name}-audio-state`);
  if (!button.dataset.src) {
    return;
  }
  if (!player.src.endsWith(button.dataset.src)) {
    player.src = button.dataset.src;
  }
  player.currentTime = 0;
  try {
    await player.play();
  } catch (err) {
    stateText.textContent = `The recording could not be played: ${describe(err)}`;
  }
}

async function startRecording() {
  const message = $("answer-message");
  say(message, "");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false,
        autoGainControl: false },
    });
  } catch (err) {
    say(message, microphoneError(err), "error");
    return;
  }
  state.recorder = new WavRecorder();
  try {
    await state.recorder.start(stream);
  } catch (err) {
    stream.getTracks().forEach((t) => t.stop());
    say(message, `Recording could not start: ${describe(err)}`, "error");
    return;
  }
  state.startedAt = performance.now();
  state.timer = setInterval(tick, COUNTDOWN_TICK_MS);
  const button = $("record");
  button.textContent = "Stop";
  button.classList.add("recording");
  button.setAttribute("aria-pressed", "true");
  $("record-state").textContent = "Recording…";
  $("language").disabled = true;
}

function microphoneError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Microphone access was blocked. Allow the microphone for this site " +
      "(the icon in the address bar), then press Record again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No microphone was found. Connect one and press Record again.";
  }
  if (name === "NotReadableError") {
    return "The microphone is in use by another program. Close it and press Record again.";
  }
  return `The microphone could not be opened: ${describe(err)}`;
}

function tick() {
  const limit = state.prompt.answer_limit_ms;
  const left = limit - (performance.now() - state.startedAt);
  $("countdown").textContent = clock(left);
  if (left <= 0) {
    stopRecording(true);
  }
}

async function stopRecording(timeUp) {
  if (!state.recorder) {
    return;
  }
  clearInterval(state.timer);
  state.timer = null;
  const recorder = state.recorder;
  state.recorder = null;
  const button = $("record");
  button.textContent = "Record";
  button.classList.remove("recording");
  button.setAttribute("aria-pressed", "false");
  button.disabled = true;
  const wav = await recorder.stop();
  if (timeUp) {
    say($("answer-message"), "The time limit was reached, so the recording stopped.", "info");
  }
  try {
    await upload(wav);
  } finally {
    button.disabled = false;
    $("language").disabled = false;
    $("countdown").textContent = clock(state.prompt.answer_limit_ms);
  }
}

async function upload(wav) {
  const status = $("record-state");
  const message = $("answer-message");
  status.textContent = `Sending ${(wav.size / 1024).toFixed(0)} KiB and scoring…`;
  const query = new URLSearchParams({
    scenario_id: state.prompt.scenario_id,
    language: state.prompt.language,
    wait_ms: String(WAIT_MS),
  });
  try {
    const response = await request(`/drills/attempts?${query}`, {
      method: "POST",
      headers: { "Content-Type": "audio/wav" },
      body: wav,
    });
    const attempt = await waitForScore(await response.json());
    status.textContent = "Scored.";
    showFeedback(attempt);
  } catch (err) {
    status.textContent = "";
    const prefix = err instanceof ApiError && err.status ? "The upload was rejected" : "Scoring failed";
    say(message, `${prefix}: ${describe(err)}`, "error");
  }
}

async function waitForScore(attempt) {
  let current = attempt;
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    if (current.scored_at && current.result) {
      return current;
    }
    if (current.job && current.job.status === "failed") {
      throw new Error(`the transcription job failed: ${current.job.error || "no reason given"}`);
    }
    current = await getJson(`/drills/attempts/${encodeURIComponent(current.id)}?wait_ms=${WAIT_MS}`);
  }
  throw new Error("the answer is still queued; reload the page later to see the score");
}

function showFeedback(attempt) {
  const score = attempt.result;
  const strategy = bestStrategy(score);
  $("feedback").hidden = false;
  $("feedback").dataset.attemptId = attempt.id;
  $("overall-score").textContent = score.overall.score.toFixed(1);
  $("coverage-part").textContent = percent(score.overall.coverage);
  $("latency-part").textContent = percent(score.overall.latency);
  $("delivery-part").textContent = percent(score.overall.delivery);
  renderTranscript($("transcript"), score.transcript, matchedOccurrences(strategy));
  renderPhrases($("phrases"), strategy);
  $("latency-text").textContent = describeLatency(score.latency);
  renderLatencyBar($("latency-bar"), score.latency);
  const notes = score.feedback.notes || [];
  $("notes").replaceChildren(...(notes.length ? notes.map((n) => el("li", {}, n.message))
    : [el("li", { class: "muted" }, "No notes: well done.")]));
  showExample(score.feedback.example);
  $("feedback").scrollIntoView({ behavior: "smooth", block: "start" });
}

function showExample(example) {
  if (!example) {
    $("example-seller").textContent = "";
    $("example-text").textContent = "No top-seller example in this language.";
    showClip("example", null);
    return;
  }
  $("example-seller").textContent = `${example.seller}:`;
  $("example-text").textContent = example.text;
  $("example-text").lang = example.language;
  showClip("example", example.snippet);
}

function percent(part) {
  return typeof part === "number" ? `${Math.round(part * 100)} %` : "–";
}

$("record").addEventListener("click", () => {
  if (state.recorder) {
    stopRecording(false);
  } else {
    startRecording();
  }
});
$("language").addEventListener("change", loadPrompt);
$("play-customer").addEventListener("click", () => playClip("customer"));
$("play-example").addEventListener("click", () => playClip("example"));
if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
  say($("answer-message"), "This browser cannot record audio here. Open the page over " +
    "https or on localhost in a current browser.", "error");
}
mountLogin($("login"), loadPrompt);
