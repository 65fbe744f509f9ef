//! End-to-end ingestion of a generated two-channel call into a temporary
//! copy of the corpus and a temporary index, and a batch in which one file
//! is corrupt.
//!
//! The call is synthesised with espeak-ng and sox: the customer's price
//! objection on the left channel, a pause of [`PAUSE_S`], then the rep's
//! answer on the right channel. Needs `models/ggml-tiny.en.bin` (`make
//! model`); without it, or without espeak-ng and sox, each test prints a
//! skip line and returns.

use std::path::{Path, PathBuf};
use std::process::Command;

use callcoach::knowledge::embed::locate_embedding_model;
use callcoach::knowledge::{load_classifier, Corpus, Ingest, IngestOptions, SearchRequest};
use callcoach::transcribe::Engine;

/// The customer's line, a trigger of `price_too_expensive`.
const CUSTOMER_LINE: &str = "Honestly, this is too expensive for us.";
/// The rep's answer of 62 English words. "warehouse" appears nowhere in the
/// bundled corpus.
const REP_ANSWER: &str = "I understand, the price looks high on its own. Let me show you \
    how our warehouse customers earn it back. Their planners used to spend two days a week \
    fixing schedules by hand. Over three years that costs more than the licence. If the total \
    cost comes out lower with us, would the price still be the main concern for your team?";
/// Silence between the customer's line and the answer, in seconds.
const PAUSE_S: f64 = 1.0;
/// Accepted error of the stored clip times, in ms.
const CLIP_TOLERANCE_MS: i64 = 150;
/// Name of the seller the call is ingested for.
const SELLER: &str = "Test Seller";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn engine() -> Option<Engine> {
    let model = root().join("models/ggml-tiny.en.bin");
    if !model.is_file() {
        println!("skipped: models/ggml-tiny.en.bin is missing; run `make model`");
        return None;
    }
    for tool in ["espeak-ng", "sox"] {
        if Command::new(tool).arg("--version").output().is_err() {
            println!("skipped: {tool} is not installed; run `make deps`");
            return None;
        }
    }
    Some(Engine::load(&model).expect("tiny.en loads"))
}

fn run(command: &mut Command) {
    let output = command.output().expect("command starts");
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn duration_s(path: &Path) -> f64 {
    let output = Command::new("soxi")
        .arg("-D")
        .arg(path)
        .output()
        .expect("soxi runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("duration")
}

/// Speaks `text` into a 16 kHz mono WAV with leading and trailing silence
/// trimmed, and returns its duration in seconds.
fn speak(dir: &Path, name: &str, text: &str) -> (PathBuf, f64) {
    let raw = dir.join(format!("{name}-raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    run(Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "-w"])
        .arg(&raw)
        .arg(text));
    run(Command::new("sox")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args([
            "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
        ]));
    let seconds = duration_s(&out);
    (out, seconds)
}

/// A generated call with the expected answer times in ms.
struct Call {
    path: PathBuf,
    answer_start_ms: i64,
    answer_end_ms: i64,
}

/// Builds `call.wav`: customer left, pause, rep right, 0.5 s of silence
/// before and after.
fn synthesise_call(dir: &Path) -> Call {
    let (customer, customer_s) = speak(dir, "customer", CUSTOMER_LINE);
    let (rep, rep_s) = speak(dir, "rep", REP_ANSWER);
    let (left, right, path) = (
        dir.join("left.wav"),
        dir.join("right.wav"),
        dir.join("call.wav"),
    );
    let lead = 0.5;
    let rep_start = lead + customer_s + PAUSE_S;
    run(Command::new("sox").arg(&customer).arg(&left).args([
        "pad",
        &lead.to_string(),
        &(PAUSE_S + rep_s + lead).to_string(),
    ]));
    run(Command::new("sox").arg(&rep).arg(&right).args([
        "pad",
        &rep_start.to_string(),
        &lead.to_string(),
    ]));
    run(Command::new("sox")
        .arg("-M")
        .arg(&left)
        .arg(&right)
        .arg(&path));
    Call {
        path,
        answer_start_ms: (rep_start * 1000.0).round() as i64,
        answer_end_ms: ((rep_start + rep_s) * 1000.0).round() as i64,
    }
}

/// Copies the bundled scenario files (without audio) into `dir/corpus`.
fn copy_corpus(dir: &Path) -> PathBuf {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).expect("corpus dir");
    for entry in std::fs::read_dir(root().join("corpus")).expect("corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, corpus.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    corpus
}

fn ingest_for(engine: Engine, corpus_dir: &Path, index_dir: &Path) -> Ingest {
    let corpus = Corpus::load(corpus_dir).expect("corpus loads");
    let model = locate_embedding_model(Some(&root().join("models/minilm")));
    let (classifier, _) = load_classifier(&corpus, model.as_deref());
    let mut options = IngestOptions::new(SELLER, corpus_dir, index_dir);
    options.settings.threads = 2;
    Ingest::new(engine, classifier, options).expect("ingest starts")
}

#[test]
fn stereo_call_adds_price_example() {
    let Some(engine) = engine() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let call = synthesise_call(dir.path());
    let corpus_dir = copy_corpus(dir.path());
    let mut ingest = ingest_for(engine, &corpus_dir, &dir.path().join("index"));

    let report = ingest.ingest_file(&call.path).expect("call ingests");

    assert!(!report.turns_estimated);
    let customer = report.customer_turns.first().expect("a customer turn");
    assert_eq!(customer.scenario.as_deref(), Some("price_too_expensive"));
    assert_eq!(report.added.len(), 1, "{:?}", report.skipped);
    let added = &report.added[0];
    assert_eq!(added.scenario, "price_too_expensive");
    let snippet = &added.example.snippets[0];
    let start_error = snippet.start_ms as i64 - call.answer_start_ms;
    let end_error = snippet.end_ms as i64 - call.answer_end_ms;
    println!("clip start error {start_error} ms, end error {end_error} ms");
    assert!(
        start_error.abs() <= CLIP_TOLERANCE_MS,
        "start off by {start_error} ms"
    );
    assert!(
        end_error.abs() <= CLIP_TOLERANCE_MS,
        "end off by {end_error} ms"
    );
    assert!(
        corpus_dir.join(&snippet.audio).is_file(),
        "{}",
        snippet.audio.display()
    );

    let corpus = Corpus::load(&corpus_dir).expect("edited corpus loads");
    let scenario = corpus.scenario("price_too_expensive").expect("scenario");
    let stored = scenario
        .strategies
        .iter()
        .flat_map(|s| &s.examples)
        .find(|e| e.seller == SELLER)
        .expect("stored example");
    assert_eq!(stored.snippets, added.example.snippets);

    let hits = ingest
        .index()
        .search(&SearchRequest::new("warehouse"))
        .expect("search");
    let hit = hits.first().expect("a hit for warehouse");
    assert_eq!(hit.seller.as_deref(), Some(SELLER));
    assert_eq!(hit.scenario, "price_too_expensive");
}

#[test]
fn corrupt_file_skipped_in_batch() {
    let Some(engine) = engine() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let call = synthesise_call(dir.path());
    let corrupt = dir.path().join("corrupt.wav");
    let mut bytes = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 64));
    std::fs::write(&corrupt, &bytes).expect("write corrupt file");
    let not_audio = dir.path().join("notes.mp3");
    std::fs::write(&not_audio, "meeting notes, not audio").expect("write text file");
    let corpus_dir = copy_corpus(dir.path());
    let mut ingest = ingest_for(engine, &corpus_dir, &dir.path().join("index"));
    let before = ingest.index().document_count();
    let mut seen = Vec::new();

    let results = ingest.ingest_all(
        &[corrupt.clone(), not_audio, call.path.clone()],
        |file, _| seen.push(file.to_path_buf()),
    );

    assert_eq!(seen.len(), 3);
    let corrupt_error = results[0]
        .1
        .as_ref()
        .expect_err("corrupt file fails")
        .to_string();
    assert!(corrupt_error.contains("corrupt.wav"), "{corrupt_error}");
    let text_error = results[1]
        .1
        .as_ref()
        .expect_err("text file fails")
        .to_string();
    assert!(
        text_error.contains("not a supported audio file"),
        "{text_error}"
    );
    let report = results[2].1.as_ref().expect("good call ingests");
    assert_eq!(report.added.len(), 1, "{:?}", report.skipped);
    assert!(Corpus::load(&corpus_dir).is_ok());
    assert_eq!(ingest.index().document_count(), before + 1);
}

#[test]
fn invalid_seller_is_rejected() {
    let Some(engine) = engine() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus_dir = copy_corpus(dir.path());
    let corpus = Corpus::load(&corpus_dir).expect("corpus");
    let (classifier, _) = load_classifier(&corpus, Some(dir.path()));
    let options = IngestOptions::new("  ", &corpus_dir, &dir.path().join("index"));

    let err = Ingest::new(engine, classifier, options)
        .err()
        .expect("empty seller");

    assert!(err.to_string().contains("--seller"), "{err}");
}
