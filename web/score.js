// Rendering of a scored answer (the DrillScore JSON of docs/scoring.md):
// the transcript with matched key phrases marked, the phrase list, and the
// response latency against the scenario's latency band.

import { el, seconds } from "./api.js";

/** Returns the coverage entry of the best strategy, or null. */
export function bestStrategy(score) {
  const coverage = score && score.coverage;
  if (!coverage || !Array.isArray(coverage.strategies)) {
    return null;
  }
  const best = coverage.strategies.find((s) => s.strategy_id === coverage.best_strategy_id);
  return best || coverage.strategies[0] || null;
}

/** Returns the occurrences of the matched phrases of a strategy entry. */
export function matchedOccurrences(strategy) {
  if (!strategy) {
    return [];
  }
  return strategy.phrases
    .filter((p) => p.matched && p.occurrence)
    .map((p) => ({ phrase: p.phrase, ...p.occurrence }));
}

function overlaps(word, occurrence) {
  if (word.end_ms <= word.start_ms) {
    return word.start_ms >= occurrence.start_ms && word.start_ms < occurrence.end_ms;
  }
  return word.start_ms < occurrence.end_ms && word.end_ms > occurrence.start_ms;
}

function normalise(text) {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
}

/** Returns the consecutive words whose letters join to the tokens' letters. */
function wordsByText(words, tokens) {
  const expected = (tokens || []).map(normalise).join("");
  if (!expected) {
    return [];
  }
  for (let first = 0; first < words.length; first += 1) {
    let joined = "";
    for (let last = first; last < words.length && joined.length < expected.length; last += 1) {
      joined += normalise(words[last].text);
      if (joined === expected) {
        return words.slice(first, last + 1);
      }
    }
  }
  return [];
}

/**
 * Returns a map from each transcript word inside a matched occurrence to
 * its phrase. The scorer derives occurrence times from the same words, so
 * time overlap finds them. An occurrence that overlaps no word in time is
 * found by the letters of its matched tokens instead.
 */
export function markedWords(transcript, occurrences) {
  const segments = transcript && Array.isArray(transcript.segments) ? transcript.segments : [];
  const words = segments.flatMap((s) => (Array.isArray(s.words) ? s.words : []));
  const marks = new Map();
  for (const occurrence of occurrences) {
    let hits = words.filter((word) => overlaps(word, occurrence));
    if (hits.length === 0) {
      hits = wordsByText(words, occurrence.words);
    }
    for (const word of hits) {
      marks.set(word, occurrence.phrase);
    }
  }
  return marks;
}

/** Returns the text between two words: nothing in Mandarin, else a space. */
export function wordSeparator(transcript) {
  return transcript && transcript.language === "zh" ? "" : " ";
}

/**
 * Renders the words of a segment into nodes. Consecutive words of one
 * phrase in `marks` (from markedWords) share one <mark class="matched">.
 */
export function segmentNodes(segment, marks, separator = " ") {
  const words = Array.isArray(segment.words) ? segment.words : [];
  if (words.length === 0) {
    return [segment.text.trim()];
  }
  const nodes = [];
  let open = null;
  words.forEach((word, index) => {
    const text = word.text.trim();
    const gap = index > 0 && !/^\p{P}+$/u.test(text) ? separator : "";
    const phrase = marks.get(word) || null;
    if (phrase && open && open.phrase === phrase) {
      open.node.append(gap + text);
      return;
    }
    if (gap) {
      nodes.push(gap);
    }
    if (phrase) {
      const node = el("mark", { class: "matched", title: `key phrase: ${phrase}` }, text);
      open = { phrase, node };
      nodes.push(node);
    } else {
      open = null;
      nodes.push(text);
    }
  });
  return nodes;
}

/** Fills `container` with a transcript, the words of `occurrences` marked. */
export function renderTranscript(container, transcript, occurrences) {
  container.replaceChildren();
  const segments = transcript && Array.isArray(transcript.segments) ? transcript.segments : [];
  if (segments.length === 0) {
    container.append(el("span", { class: "muted" }, "No speech was recognised."));
    return;
  }
  const marks = markedWords(transcript, occurrences);
  const separator = wordSeparator(transcript);
  segments.forEach((segment, index) => {
    if (index > 0) {
      container.append(separator);
    }
    container.append(...segmentNodes(segment, marks, separator));
  });
}

/** Fills a list with the strategy's phrases, matched first, then missed. */
export function renderPhrases(list, strategy) {
  list.replaceChildren();
  if (!strategy) {
    return;
  }
  const phrases = [...strategy.phrases].sort((a, b) => Number(b.matched) - Number(a.matched));
  for (const p of phrases) {
    const kind = p.matched ? "matched" : "missed";
    const mode = p.matched && p.occurrence ? ` (${p.occurrence.mode.replace("_", " ")})` : "";
    const id = `${p.strategy_id || strategy.strategy_id}/${p.phrase}`;
    list.append(el("li", { class: kind, "data-phrase": p.phrase, "data-phrase-id": id },
      `${p.matched ? "✓" : "✗"} ${p.phrase}${mode}`,
      el("span", { class: "visually-hidden" }, p.matched ? " matched" : " missed")));
  }
}

const LATENCY_WORDS = {
  too_fast: "too fast",
  in_band: "in the target band",
  too_slow: "too slow",
};

/** Returns one sentence on the answer's latency against top sellers. */
export function describeLatency(latency) {
  if (!latency || latency.latency_ms === null || latency.latency_ms === undefined) {
    return "No speech was found, so no response time was measured.";
  }
  const band = latency.band || {};
  const verdict = LATENCY_WORDS[latency.class] || "not classified";
  return `You started ${seconds(latency.latency_ms)} after the customer finished (${verdict}). ` +
    `Top sellers start after ${seconds(band.top_seller_ms)}; ` +
    `the target band is ${seconds(band.min_ms)} to ${seconds(band.max_ms)}.`;
}

/** Draws the latency band with ticks for the answer and top sellers. */
export function renderLatencyBar(bar, latency) {
  bar.replaceChildren();
  if (!latency || !latency.band || typeof latency.latency_ms !== "number") {
    return;
  }
  const band = latency.band;
  const span = Math.max(band.max_ms * 2, latency.latency_ms * 1.1, 1);
  const at = (ms) => `${(100 * Math.min(Math.max(ms, 0), span)) / span}%`;
  const bandNode = el("div", { class: "band" });
  bandNode.style.left = at(band.min_ms);
  bandNode.style.width = `calc(${at(band.max_ms)} - ${at(band.min_ms)})`;
  const tick = (kind, ms, text) => {
    const node = el("div", { class: `tick ${kind}` }, el("span", {}, text));
    node.style.left = at(ms);
    return node;
  };
  bar.append(bandNode,
    tick("top", band.top_seller_ms, `top sellers ${seconds(band.top_seller_ms)}`),
    tick("you", latency.latency_ms, `you ${seconds(latency.latency_ms)}`));
}

/** Returns a short badge for a latency class. */
export function latencyBadge(latency) {
  if (!latency || typeof latency.latency_ms !== "number") {
    return el("span", { class: "badge" }, "no latency");
  }
  const words = LATENCY_WORDS[latency.class] || "unclassified";
  return el("span", { class: `badge ${latency.class || ""}`, title: words },
    `${seconds(latency.latency_ms)} · ${words}`);
}
