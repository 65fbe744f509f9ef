//! Drill scoring speed.
//!
//! `text_scoring`: `score_answer` on a 30 s English answer of 75 timed
//! words against the bundled `price_too_expensive` scenario (criterion, and
//! a median and p99 over 1000 runs printed to stderr).
//!
//! `drill_feedback`: a 30 s answer synthesised with espeak-ng is pushed in
//! 250 ms pieces at real-time pace into an [`AnswerSession`] (live
//! transcription with `models/ggml-tiny.en.bin`); the time from the last
//! piece to the finished feedback is printed for each of 3 runs of two
//! endings: the recording stops in the middle of a word, or 600 ms after
//! the last word, as when the rep finishes and then presses stop. Skipped
//! with a message when the model or espeak-ng is missing.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use callcoach::audio::vad::{detect_speech, VadConfig};
use callcoach::audio::{self, DecodeLimits, SAMPLE_RATE_HZ};
use callcoach::drill::{AnswerOptions, AnswerSession, PUSH_PIECE_MS};
use callcoach::knowledge::{Corpus, Scenario};
use callcoach::language::Language;
use callcoach::scoring::{score_answer, ScoreOptions};
use callcoach::transcribe::{Engine, LanguageChoice, Segment, Transcript, Word};
use criterion::{black_box, criterion_group, Criterion};

const ANSWER: &str = "I hear you, the licence line looks big on its own. Can we put it next to \
    what the current process costs you? Last month you told me two coordinators spend half \
    their week rescheduling jobs by hand. Over three years that is more than this licence. \
    If the total cost of ownership comes out lower with us, would the price still be the \
    blocker? I can send the numbers today so your finance team can check them.";
const DRILL_RUNS: usize = 3;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenario() -> Scenario {
    let corpus = Corpus::load(&root().join("corpus")).expect("bundled corpus loads");
    corpus
        .scenario("price_too_expensive")
        .expect("scenario exists")
        .clone()
}

/// Spreads the answer's words evenly over 30 s, as Whisper would time them.
fn transcript() -> Transcript {
    let count = ANSWER.split_whitespace().count() as u64;
    let step = 30_000 / count;
    let words: Vec<Word> = ANSWER
        .split_whitespace()
        .zip(0u64..)
        .map(|(w, i)| Word {
            start_ms: i * step,
            end_ms: i * step + step * 4 / 5,
            text: format!(" {w}"),
            probability: 0.9,
        })
        .collect();
    Transcript {
        language: "en".into(),
        duration_ms: 30_000,
        no_speech: false,
        text: ANSWER.into(),
        segments: vec![Segment {
            start_ms: 0,
            end_ms: 30_000,
            text: ANSWER.into(),
            words,
        }],
    }
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * share).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn text_scoring(c: &mut Criterion) {
    let scenario = scenario();
    let transcript = transcript();
    let options = ScoreOptions {
        language: Some(Language::En),
        ..ScoreOptions::default()
    };
    c.bench_function("text_scoring_30s_answer", |b| {
        b.iter(|| {
            score_answer(black_box(&scenario), black_box(&transcript), &[], &options)
                .expect("scores")
        })
    });

    let mut times: Vec<Duration> = (0..1000)
        .map(|_| {
            let started = Instant::now();
            black_box(score_answer(&scenario, &transcript, &[], &options).expect("scores"));
            started.elapsed()
        })
        .collect();
    times.sort();
    eprintln!(
        "text scoring per answer: median {:?}, p99 {:?} (1000 runs)",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
}

fn synthesise_answer(dir: &Path) -> Option<Vec<f32>> {
    let raw = dir.join("answer.wav");
    let text = format!("{ANSWER} {ANSWER}");
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&raw)
        .arg(&text)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    let samples = audio::decode_file(&raw, &DecodeLimits::default())
        .ok()?
        .mono();
    let thirty_seconds = 30 * SAMPLE_RATE_HZ as usize;
    Some(samples[..samples.len().min(thirty_seconds)].to_vec())
}

fn drill_feedback() {
    let model = root().join("models/ggml-tiny.en.bin");
    if !model.is_file() {
        eprintln!(
            "drill_feedback skipped: {} is missing; run `make model`",
            model.display()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(samples) = synthesise_answer(dir.path()) else {
        eprintln!("drill_feedback skipped: espeak-ng could not synthesise the answer");
        return;
    };
    let engine = Engine::load(&model).expect("model loads");
    let ms = |n: usize| n * SAMPLE_RATE_HZ as usize / 1000;
    let pause_ms = 600;
    let speech_end = detect_speech(
        &samples[..samples.len() - ms(pause_ms)],
        &VadConfig::default(),
    )
    .last()
    .map_or(0, |r| ms(r.end_ms as usize));
    let mut paused = samples[..speech_end].to_vec();
    paused.resize(speech_end + ms(pause_ms), 0.0);
    for (ending, audio) in [
        ("mid-word", &samples),
        ("600 ms after the last word", &paused),
    ] {
        feedback_runs(&engine, ending, audio);
    }
}

fn feedback_runs(engine: &Engine, ending: &str, samples: &[f32]) {
    let scenario = scenario();
    let piece = PUSH_PIECE_MS * SAMPLE_RATE_HZ as usize / 1000;
    let pace = Duration::from_millis(PUSH_PIECE_MS as u64);

    let mut times = Vec::new();
    for run in 0..DRILL_RUNS {
        let options = AnswerOptions {
            language: LanguageChoice::Fixed(Language::En),
            ..AnswerOptions::default()
        };
        let mut session = AnswerSession::start(engine, &scenario, options).expect("session starts");
        let started = Instant::now();
        for (index, chunk) in samples.chunks(piece).enumerate() {
            let due = pace * index as u32;
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            session.push(chunk);
        }
        let ended = Instant::now();
        let scored = session.finish().expect("answer scores");
        let feedback = ended.elapsed();
        eprintln!(
            "drill run {run}, stops {ending}: {} ms of audio, feedback {feedback:?} after the \
             end, overall {:.1}, {:?}",
            samples.len() / 16,
            scored.score.overall.score,
            scored.transcription
        );
        times.push(feedback);
    }
    times.sort();
    eprintln!(
        "drill feedback after a 30 s answer that stops {ending}: median {:?}, max {:?} \
         ({DRILL_RUNS} runs)",
        percentile(&times, 0.5),
        times[times.len() - 1]
    );
}

criterion_group!(benches, text_scoring);

fn main() {
    benches();
    drill_feedback();
    Criterion::default().configure_from_args().final_summary();
}
