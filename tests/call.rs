//! Analysis of real and synthesised two-party calls, consent checks and
//! checkpoint evaluation over stored calls.
//!
//! The synthesised call puts a customer line (espeak-ng en-gb) on the left
//! channel and, after a known gap, a rep answer with known key phrases
//! (en-us) on the right; its mono downmix is analysed too. The reference
//! dialogs come from `CALLCOACH_CORPUS_CANDIDATES` (default
//! `../shared/corpus-candidates`): `tts/dialog_*` with their `*.truth.txt`.
//! Needs `models/ggml-tiny.en.bin` (`make model`) and, for Mandarin,
//! `models/ggml-base.bin` (`make model-base`).

use std::path::{Path, PathBuf};
use std::process::Command;

use callcoach::audio::{self, Audio, DecodeLimits};
use callcoach::call::{self, Authorization, CallAnalysis, CallOptions, Speaker};
use callcoach::checkpoint;
use callcoach::knowledge::{Classifier, Corpus};
use callcoach::language::Language;
use callcoach::store::calls::ConsentMethod;
use callcoach::store::users::{NewUser, Role};
use callcoach::store::{Store, StoreConfig};
use callcoach::transcribe::{Engine, LanguageChoice};

/// Latency error allowed against the constructed or measured gap, in milliseconds.
const LATENCY_TOLERANCE_MS: i64 = 100;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus() -> Corpus {
    Corpus::load(&root().join("corpus")).expect("bundled corpus loads")
}

fn engine(name: &str) -> Option<Engine> {
    let path = root().join("models").join(format!("ggml-{name}.bin"));
    if !path.is_file() {
        let target = if name == "base" {
            "make model-base"
        } else {
            "make model"
        };
        eprintln!(
            "skipped: {} is missing; run `{target}` first",
            path.display()
        );
        return None;
    }
    Some(Engine::load(&path).expect("provisioned model loads"))
}

fn corpus_candidates() -> Option<PathBuf> {
    let configured = std::env::var_os("CALLCOACH_CORPUS_CANDIDATES").map_or_else(
        || PathBuf::from("../shared/corpus-candidates"),
        PathBuf::from,
    );
    let dir = if configured.is_absolute() {
        configured
    } else {
        root().join(configured)
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: reference dialogs not found at {} (set CALLCOACH_CORPUS_CANDIDATES)",
            dir.display()
        );
        None
    }
}

fn consent() -> Authorization {
    Authorization {
        consent_recorded: true,
        recorded_by: "Dana Coach".into(),
        method: ConsentMethod::VerbalOnRecording,
    }
}

fn analyze(
    engine: &Engine,
    audio: &Audio,
    rep_channel: usize,
    language: LanguageChoice,
) -> CallAnalysis {
    let corpus = corpus();
    let classifier = Classifier::new(&corpus);
    let options = CallOptions {
        rep_channel,
        language,
        threads: 2,
    };
    call::analyze(engine, &corpus, &classifier, audio, &consent(), &options).expect("call analyses")
}

fn sox(args: &[&str]) {
    let status = Command::new("sox").args(args).status().expect("sox runs");
    assert!(status.success(), "sox {args:?} failed");
}

fn speak(dir: &Path, name: &str, text: &str, voice: &[&str]) -> PathBuf {
    let raw = dir.join(format!("{name}.raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(voice)
        .arg("-w")
        .arg(&raw)
        .arg(text)
        .status()
        .expect("espeak-ng runs");
    assert!(status.success(), "espeak-ng failed");
    let (raw, out_text) = (raw.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    sox(&[
        raw, "-r", "16000", "-c", "1", "-b", "16", out_text, "silence", "1", "0.02", "0.5%",
        "reverse", "silence", "1", "0.02", "0.5%", "reverse",
    ]);
    out
}

fn decode(path: &Path) -> Audio {
    audio::decode_file(path, &DecodeLimits::default()).expect("recording decodes")
}

/// Builds a stereo call: the customer line on channel 0, then after
/// `gap_ms` the rep answer on channel 1.
fn synth_call(dir: &Path, gap_ms: u64) -> (Audio, u64) {
    let customer = speak(
        dir,
        "customer",
        "Honestly, this is too expensive for us.",
        &["-v", "en-gb", "-p", "70", "-s", "165"],
    );
    let rep = speak(
        dir,
        "rep",
        "I understand. Let us look at the total cost of ownership over three years.",
        &["-v", "en-us", "-p", "45", "-s", "160"],
    );
    let customer = decode(&customer).mono();
    let rep = decode(&rep).mono();
    let offset = customer.len() + gap_ms as usize * 16;
    let mut left = customer.clone();
    left.resize(offset + rep.len() + 8000, 0.0);
    let mut right = vec![0.0; offset];
    right.extend_from_slice(&rep);
    right.resize(left.len(), 0.0);
    let customer_end_ms = customer.len() as u64 / 16;
    (Audio::from_channels_16k(vec![left, right]), customer_end_ms)
}

fn first_scored(analysis: &CallAnalysis) -> &call::Exchange {
    analysis
        .exchanges
        .iter()
        .find(|e| e.score.is_some())
        .unwrap_or_else(|| panic!("no scored exchange; turns {:?}", analysis.turns))
}

fn assert_latency(exchange: &call::Exchange, expected_ms: i64, analysis: &CallAnalysis) {
    let latency = exchange.response.as_ref().expect("rep answered").latency_ms;
    assert!(
        (latency - expected_ms).abs() <= LATENCY_TOLERANCE_MS,
        "latency {latency} ms, expected {expected_ms} ms; turns {:?}",
        analysis.turns
    );
}

#[test]
fn synthesized_stereo_call_scores_answer() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (audio, _) = synth_call(dir.path(), 1000);

    let analysis = analyze(&engine, &audio, 1, LanguageChoice::Fixed(Language::En));

    assert!(!analysis.turns_estimated);
    let exchange = first_scored(&analysis);
    assert_eq!(
        exchange.scenario.as_ref().map(|s| s.scenario_id.as_str()),
        Some("price_too_expensive")
    );
    assert_latency(exchange, 1000, &analysis);
    let score = exchange.score.as_ref().expect("scored");
    let best = score.coverage.best().expect("best strategy");
    let matched: Vec<&str> = best
        .phrases
        .iter()
        .filter(|p| p.matched)
        .map(|p| p.phrase.as_str())
        .collect();
    assert_eq!(
        matched,
        vec!["total cost of ownership", "over three years"],
        "transcript {:?}",
        score.transcript.text
    );
    assert!(
        analysis.summary.talk_ratio > 0.3,
        "talk ratio {}",
        analysis.summary.talk_ratio
    );
    assert!(
        analysis.summary.talk_ratio < 0.8,
        "talk ratio {}",
        analysis.summary.talk_ratio
    );
    assert_eq!(analysis.summary.key_moments.len(), 2);
    assert_eq!(analysis.summary.scenario_scores.len(), 1);

    let curve = analysis.customer_emotion.as_ref().expect("emotion curve");
    let customer_turns = analysis
        .turns
        .iter()
        .filter(|t| t.speaker == Speaker::Customer)
        .count();
    assert_eq!(curve.points.len(), customer_turns);
    let objection = &curve.points[0];
    assert!(objection.voiced_frames > 0, "{objection:?}");
    assert!(
        objection
            .sentiment_words
            .iter()
            .any(|w| w.text.contains("expensive")),
        "{objection:?}"
    );
    assert!(objection.value < 0.0, "{objection:?}");
    assert_eq!(curve.markers.len(), 1, "{:?}", curve.markers);
    assert_eq!(curve.markers[0].scenario_id, "price_too_expensive");
    assert_eq!(curve.markers[0].turn_index, Some(0));
}

#[test]
fn synthesized_mono_downmix_estimates_turns() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (stereo, _) = synth_call(dir.path(), 1000);
    let mono = Audio::from_mono_16k(stereo.mono());

    let analysis = analyze(&engine, &mono, 0, LanguageChoice::Fixed(Language::En));

    assert!(analysis.turns_estimated);
    assert_eq!(
        analysis.turns.first().map(|t| t.speaker),
        Some(Speaker::Customer)
    );
    let exchange = first_scored(&analysis);
    assert_latency(exchange, 1000, &analysis);
}

fn truth_latency_ms(path: &Path) -> i64 {
    let text = std::fs::read_to_string(path).expect("truth file reads");
    let seconds: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("response_latency_s="))
        .expect("latency line")
        .trim()
        .parse()
        .expect("latency number");
    (seconds * 1000.0).round() as i64
}

fn reference_dialog(engine: &Engine, stem: &str, language: Language) {
    let Some(dir) = corpus_candidates() else {
        return;
    };
    let tts = dir.join("tts");
    let expected = truth_latency_ms(&tts.join(format!("{stem}.truth.txt")));
    let stereo = decode(&tts.join(format!("{stem}_stereo16k.wav")));

    let analysis = analyze(engine, &stereo, 1, LanguageChoice::Fixed(language));

    let exchange = analysis
        .exchanges
        .iter()
        .find(|e| e.response.is_some())
        .unwrap_or_else(|| panic!("no answered customer turn: {:?}", analysis.turns));
    eprintln!(
        "{stem} stereo: latency {:?}, scenario {:?}, turns {:?}",
        exchange.response.as_ref().map(|r| r.latency_ms),
        exchange.scenario,
        analysis.turns
    );
    assert_latency(exchange, expected, &analysis);

    let mono = decode(&tts.join(format!("{stem}_mono8k.wav")));
    let analysis = analyze(engine, &mono, 0, LanguageChoice::Fixed(language));
    let latency = analysis
        .exchanges
        .iter()
        .find_map(|e| e.response.as_ref().map(|r| r.latency_ms));
    eprintln!("{stem} mono 8 kHz: latency {latency:?} against {expected} ms, turns estimated {}, turns {:?}", analysis.turns_estimated, analysis.turns);
    assert!(analysis.turns_estimated);
}

#[test]
fn reference_english_dialog_latency() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    reference_dialog(&engine, "dialog_en_price_gap1200ms", Language::En);
}

#[test]
fn reference_mandarin_dialog_latency() {
    let Some(engine) = engine("base") else { return };
    reference_dialog(&engine, "dialog_zh_price_gap2500ms", Language::Zh);
}

#[test]
fn analysis_without_consent_is_rejected() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let corpus = corpus();
    let classifier = Classifier::new(&corpus);
    let audio = Audio::from_channels_16k(vec![vec![0.0; 16_000], vec![0.0; 16_000]]);
    let authorization = Authorization {
        consent_recorded: false,
        ..consent()
    };
    let options = CallOptions {
        rep_channel: 1,
        language: LanguageChoice::Auto,
        threads: 1,
    };

    let err = call::analyze(
        &engine,
        &corpus,
        &classifier,
        &audio,
        &authorization,
        &options,
    )
    .err()
    .expect("rejected");

    assert!(err.to_string().contains("consent"), "{err}");
}

#[test]
fn cli_without_consent_flag_fails() {
    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(root())
        .args(["call", "analyze", "missing.wav", "--rep-channel", "1"])
        .output()
        .expect("callcoach runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("consent") && stderr.contains("recorded"),
        "{stderr}"
    );
}

#[test]
fn cli_rejects_third_rep_channel() {
    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(root())
        .args([
            "call",
            "analyze",
            "missing.wav",
            "--rep-channel",
            "2",
            "--consent",
        ])
        .output()
        .expect("callcoach runs");

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("rep-channel"));
}

#[test]
fn default_checkpoints_parse() {
    let corpus = corpus();

    let definitions =
        checkpoint::load_definitions(&root().join("config/checkpoints.toml"), Some(&corpus))
            .expect("definitions load");

    assert!(definitions.iter().any(|c| c.id == "price_objection"));
    assert!(definitions.iter().all(|c| c.required_calls >= 1));
}

#[test]
fn checkpoint_rejects_unknown_scenario() {
    let corpus = corpus();
    let text = "[[checkpoint]]\nid = \"x\"\nscenarios = [\"nope\"]\n[checkpoint.thresholds]\nmin_overall = 50\nmin_coverage = 0.2\n";

    let err = checkpoint::parse_definitions(text, Path::new("inline.toml"), Some(&corpus))
        .err()
        .expect("rejected");

    assert!(err.to_string().contains("nope"), "{err}");
}

#[tokio::test]
async fn stored_calls_pass_checkpoint() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (audio, _) = synth_call(dir.path(), 1000);
    let analysis = analyze(&engine, &audio, 1, LanguageChoice::Fixed(Language::En));
    let corpus = corpus();
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().join("data"),
        database_url: None,
        max_connections: Some(2),
    })
    .await
    .expect("store opens");
    let team = store.create_team("Field sales").await.expect("team");
    let rep = store
        .create_user(&NewUser {
            team_id: Some(team.id),
            email: "rep@example.com".into(),
            display_name: "Rep".into(),
            role: Role::Rep,
        })
        .await
        .expect("rep");
    let overall = first_scored(&analysis)
        .score
        .as_ref()
        .expect("scored")
        .overall
        .score;
    let definitions = format!(
        "[[checkpoint]]\nid = \"easy\"\nscenarios = [\"price_too_expensive\"]\nrequired_calls = 2\n[checkpoint.thresholds]\nmin_overall = {low}\nmin_coverage = 0.1\nlatency_in_band = true\n\n\
         [[checkpoint]]\nid = \"hard\"\nscenarios = [\"price_too_expensive\"]\n[checkpoint.thresholds]\nmin_overall = {high}\nmin_coverage = 0.1\n",
        low = (overall - 5.0).max(0.0),
        high = (overall + 5.0).min(100.0),
    );
    let definitions =
        checkpoint::parse_definitions(&definitions, Path::new("inline.toml"), Some(&corpus))
            .expect("definitions parse");
    for n in 0..2u8 {
        let bytes = vec![b'R', b'I', b'F', b'F', n];
        call::store_call(
            &store,
            &corpus,
            &rep.id,
            &analysis,
            &consent(),
            (bytes, Some("wav")),
        )
        .await
        .expect("call stored");
    }

    let reports = checkpoint::rep_status(&store, &definitions, &rep.id)
        .await
        .expect("status evaluates");

    assert!(reports[0].passed, "{:?}", reports[0]);
    assert_eq!(reports[0].counted.len(), 2);
    assert!(!reports[1].passed);
    assert_eq!(reports[1].rejected.len(), 2);
    assert!(
        reports[1].rejected[0].reasons[0].contains("overall"),
        "{:?}",
        reports[1].rejected
    );
    let saved = store
        .checkpoint_status(&rep.id, "easy")
        .await
        .expect("status reads")
        .expect("saved");
    assert!(saved.passed);

    let month = callcoach::store::now().date();
    let window = callcoach::review::Month {
        year: month.year(),
        month: u8::from(month.month()),
    }
    .window()
    .expect("month window");
    let emotions = callcoach::review::observe::rep_call_emotions(&store, &rep.id, &window)
        .await
        .expect("emotions load");
    assert_eq!(emotions.len(), 2, "one curve per stored call");
    let computed = analysis.customer_emotion.as_ref().expect("emotion curve");
    let stored = &emotions[0].curve;
    assert_eq!(stored.points.len(), computed.points.len());
    let marker_keys = |curve: &callcoach::review::emotion::EmotionCurve| {
        let keys = curve
            .markers
            .iter()
            .map(|m| (m.scenario_id.clone(), m.turn_index));
        keys.collect::<Vec<_>>()
    };
    assert_eq!(marker_keys(stored), marker_keys(computed));
    for (stored, computed) in stored.points.iter().zip(&computed.points) {
        assert!((stored.value - computed.value).abs() < 1e-9, "{stored:?}");
    }
}
