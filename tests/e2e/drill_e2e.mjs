// Drives the callcoach pages in headless Chromium against a running service
// (started by run.sh). The fake microphone plays a WAV file that espeak-ng
// speaks from the English top-seller answer of today's scenario, so the
// scored feedback must show a score, matched key phrases and a latency.
//
// Environment: BASE_URL, REP_TOKEN, COACH_TOKEN, MANAGER_TOKEN, TEAM_ID,
// E2E_OUT (screenshots), E2E_WORK (scratch directory), CHROMIUM.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is missing: run tests/e2e/run.sh`);
  }
  return value;
};

const BASE = env("BASE_URL");
const OUT = env("E2E_OUT");
const WORK = env("E2E_WORK");
/** Silence before the spoken answer, in seconds: the expected latency. */
const LEAD_SILENCE_S = 0.8;
/** Silence after it, so the recording does not stop mid-word. */
const TAIL_SILENCE_S = 1.0;
/** Sample rate of the capture file, in Hz. Chromium reads 16-bit PCM WAV files. */
const CAPTURE_RATE_HZ = 48000;
const SCORE_TIMEOUT_MS = 180_000;

async function api(path, tokenName) {
  const response = await fetch(`${BASE}/api/v1${path}`, {
    headers: { Authorization: `Bearer ${env(tokenName)}` },
  });
  const body = await response.json();
  assert.equal(response.status, 200, `GET ${path}: ${JSON.stringify(body)}`);
  return body;
}

/** Returns the English top-seller answer of today's scenario for the rep. */
async function topSellerAnswer() {
  const today = await api("/drills/today?language=en", "REP_TOKEN");
  const scenario = await api(`/scenarios/${encodeURIComponent(today.scenario_id)}`, "REP_TOKEN");
  for (const strategy of scenario.strategies) {
    const example = strategy.examples.find((e) => e.lang === "en");
    if (example) {
      return { scenarioId: scenario.id, strategyId: strategy.id, text: example.text };
    }
  }
  throw new Error(`scenario ${scenario.id} has no English top-seller example`);
}

/** Speaks `text` into a 16-bit mono WAV with silence around it. */
function synthesise(text) {
  const spoken = join(WORK, "answer-espeak.wav");
  const capture = join(WORK, "answer.wav");
  execFileSync("espeak-ng", ["-v", "en-us", "-s", "150", "-w", spoken, text]);
  execFileSync("sox", [spoken, "-r", String(CAPTURE_RATE_HZ), "-b", "16", "-c", "1",
    "-e", "signed-integer", capture, "pad", String(LEAD_SILENCE_S), String(TAIL_SILENCE_S)]);
  const seconds = Number.parseFloat(execFileSync("soxi", ["-D", capture]).toString());
  assert.ok(seconds > 1, `synthesised answer is only ${seconds} s long`);
  return { path: capture, seconds };
}

/**
 * Starts Chromium with a new empty profile. Without `grantMicrophone` the
 * permission prompt has no fake answer, so headless Chromium denies it.
 */
async function launch(capturePath, grantMicrophone = true) {
  const profile = mkdtempSync(join(WORK, "chromium-profile-"));
  const media = grantMicrophone ? ["--use-fake-ui-for-media-stream"] : [];
  return chromium.launchPersistentContext(profile, {
    executablePath: env("CHROMIUM"),
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ...media, "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${capturePath}%noloop`,
    ],
  });
}

/** Checks the message shown when the microphone permission is denied. */
async function deniedMicrophone(capture) {
  const context = await launch(capture.path, false);
  try {
    const page = await context.newPage();
    await signIn(page, "/drill", "REP_TOKEN");
    await page.waitForSelector("#record:not([disabled])");
    await page.click("#record");
    await page.waitForSelector("#answer-message.error");
    const message = await page.textContent("#answer-message");
    assert.match(message, /Microphone access was blocked/);
    const recording = await page.$("#record.recording");
    assert.equal(recording, null, "the page records without a microphone");
  } finally {
    await context.close();
  }
}

/** Fails the run on any request that leaves the service's origin. */
function guardRequests(context, foreign) {
  const origin = new URL(BASE).origin;
  context.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith("blob:") && !url.startsWith("data:")) {
      foreign.push(url);
    }
  });
}

async function signIn(page, path, tokenName) {
  await page.goto(`${BASE}${path}`);
  await page.fill("#token", env(tokenName));
  await page.click("#login button[type=submit]");
}

async function drill(page, answer, capture) {
  const customerAudio = page.waitForResponse((response) =>
    response.url().includes("/audio?") && response.url().includes("part=customer"));
  await signIn(page, "/drill", "REP_TOKEN");
  await page.waitForFunction(() => document.querySelector("#title-zh").textContent.length > 0);
  await page.waitForSelector("#record:not([disabled])");
  const line = await page.textContent("#customer-line");
  assert.ok(line.trim().length > 0, "the customer's line is empty");
  const source = await page.getAttribute("#player", "src");
  assert.match(source || "", /\/api\/v1\/scenarios\/.+\/audio\?.*access_token=/);
  const audio = await customerAudio;
  assert.equal(audio.status(), 200, `customer audio answered ${audio.status()}`);
  assert.equal(audio.headers()["content-type"], "audio/wav");
  await page.screenshot({ path: join(OUT, "drill-before.png"), fullPage: true });

  await page.click("#record");
  await page.waitForSelector("#record.recording");
  await page.waitForTimeout(Math.ceil(capture.seconds * 1000) + 500);
  const left = await page.textContent("#countdown");
  assert.match(left, /^[0-4]:[0-5]\d$/, `countdown shows ${left} after ${capture.seconds} s`);
  await page.click("#record");

  await page.waitForSelector("#feedback:not([hidden])", { timeout: SCORE_TIMEOUT_MS })
    .catch(async (err) => {
      const message = await page.textContent("#answer-message");
      throw new Error(`no feedback shown (${message.trim() || err.message})`);
    });
  const score = Number.parseFloat(await page.textContent("#overall-score"));
  assert.ok(score > 0, `overall score ${score} is not above 0`);
  assert.ok(score <= 100, `overall score ${score} is above 100`);
  const marks = await page.$$eval("#transcript mark.matched", (nodes) => nodes.map((n) => n.textContent));
  assert.ok(marks.length >= 1, "no matched phrase is highlighted in the transcript");
  const matchedChips = await page.$$eval("#phrases li.matched", (nodes) => nodes.length);
  assert.ok(matchedChips >= 1, "no matched phrase is listed");
  const latency = await page.textContent("#latency-text");
  assert.match(latency, /You started -?\d+\.\d s after the customer finished/);
  assert.match(latency, /Top sellers start after \d+\.\d s/);
  const example = await page.textContent("#example-text");
  assert.ok(example.trim().length > 20, "the top-seller example is empty");
  await page.screenshot({ path: join(OUT, "drill-after.png"), fullPage: true });
  const attemptId = await page.getAttribute("#feedback", "data-attempt-id");
  console.log(`drill: score ${score}, ${marks.length} marked words (${marks.join(", ")}), ` +
    `${latency} [${answer.scenarioId}/${answer.strategyId}]`);
  return attemptId;
}

async function coach(page, attemptId) {
  await signIn(page, `/coach?kind=drill&id=${encodeURIComponent(attemptId)}`, "COACH_TOKEN");
  await page.waitForSelector("#record:not([hidden])");
  await page.waitForSelector(`#team-records tr[data-record-id="${attemptId}"]`);
  const marks = await page.$$eval("#segments mark.matched", (nodes) => nodes.length);
  assert.ok(marks >= 1, "the coach transcript marks no phrase");
  const badge = await page.textContent("#segments .badge");
  assert.match(badge, /\d+\.\d s/, "no latency badge on the answer");

  const options = await page.$$eval("#override-field option", (nodes) => nodes.map((n) => n.value));
  const phrase = options.find((value) => value !== "overall_score");
  assert.ok(phrase, "no phrase to override");
  await page.selectOption("#override-field", phrase);
  await page.check("input[name=matched][value=false]");
  await page.fill("#override-comment", "Said too fast to count: repeat it slowly next time.");
  await page.click("#override-form button[type=submit]");
  await page.waitForSelector("#history tr td:has-text('not said')");
  await page.selectOption("#override-field", "overall_score");
  await page.fill("#override-score", "55");
  await page.fill("#override-comment", "Good structure, but the close was missing.");
  await page.click("#override-form button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#history tr").length === 2);
  const override = await page.textContent("#record-override");
  assert.match(override, /Coach score 55\.0/);
  await page.screenshot({ path: join(OUT, "coach.png"), fullPage: true });
}

async function manager(page) {
  await signIn(page, `/manager?team=${encodeURIComponent(env("TEAM_ID"))}`, "MANAGER_TOKEN");
  await page.waitForSelector("#heatmap svg");
  await page.waitForFunction(() => document.querySelector("#tasks tr") !== null);
  await page.fill("#task-reason", "Coverage of the key phrases was low in drills.");
  await page.click("#task-form button[type=submit]");
  await page.waitForSelector("#tasks td:has-text('open')");
  await page.fill("#permission-name", "live_calls");
  await page.fill("#permission-reason", "Passed the drill review with the coach.");
  await page.click("#permission-form button[type=submit]");
  await page.waitForSelector("#granted td:has-text('live_calls')");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("button[data-export=xlsx]"),
  ]);
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  await page.screenshot({ path: join(OUT, "manager.png"), fullPage: true });
}

async function main() {
  const answer = await topSellerAnswer();
  const capture = synthesise(answer.text);
  const context = await launch(capture.path);
  const foreign = [];
  guardRequests(context, foreign);
  const errors = [];
  context.on("weberror", (error) => errors.push(String(error.error())));
  try {
    const page = await context.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error") {
        errors.push(msg.text());
      }
    });
    const attemptId = await drill(page, answer, capture);
    await coach(page, attemptId);
    await manager(page);
  } finally {
    await context.close();
  }
  assert.deepEqual(foreign, [], "a page requested a resource outside the service");
  assert.deepEqual(errors, [], "a page logged errors");
  await deniedMicrophone(capture);
  console.log(`e2e passed; screenshots in ${OUT}`);
}

main().catch((err) => {
  console.error(`e2e failed: ${err.stack || err}`);
  process.exit(1);
});
