//! Daily drill draw, drill scoring from synthesised audio and coach
//! overrides, against the bundled corpus and a temporary SQLite store.
//!
//! Audio answers are generated with espeak-ng and sox: a known silence (or a
//! customer line and a known gap), then an answer that contains known key
//! phrases of one strategy. English cases need `models/ggml-tiny.en.bin`
//! (`make model`), Mandarin cases `models/ggml-base.bin` (`make
//! model-base`); each missing model prints a skip line.

use std::path::{Path, PathBuf};
use std::process::Command;

use callcoach::audio::{self, DecodeLimits};
use callcoach::coach;
use callcoach::drill::{self, AnswerOptions, ScoredAnswer};
use callcoach::knowledge::Corpus;
use callcoach::language::Language;
use callcoach::scoring::{score_answer, DrillScore, NoteCode, ScoreOptions};
use callcoach::store::overrides::OverrideChange;
use callcoach::store::users::{NewUser, Role};
use callcoach::store::{Score, Store, StoreConfig, UserId};
use callcoach::transcribe::{Engine, LanguageChoice, Segment, Transcript, Word};

/// Latency error allowed against the constructed gap, in milliseconds.
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

/// Speaks `text` with espeak-ng into a 16 kHz mono WAV with leading and
/// trailing silence trimmed, so speech starts at the first sample.
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
    assert!(status.success(), "espeak-ng failed for {text:?}");
    let trim = [
        "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
    ];
    sox(
        &[
            raw.to_str().expect("utf-8 path"),
            "-r",
            "16000",
            "-c",
            "1",
            "-b",
            "16",
            out.to_str().expect("utf-8 path"),
        ],
        &trim,
    );
    out
}

fn sox(args: &[&str], effects: &[&str]) {
    let status = Command::new("sox")
        .args(args)
        .args(effects)
        .status()
        .expect("sox runs");
    assert!(status.success(), "sox {args:?} {effects:?} failed");
}

fn silence(dir: &Path, name: &str, ms: u64) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    let seconds = format!("{}.{:03}", ms / 1000, ms % 1000);
    sox(
        &[
            "-n",
            "-r",
            "16000",
            "-c",
            "1",
            "-b",
            "16",
            out.to_str().expect("utf-8 path"),
        ],
        &["trim", "0", &seconds],
    );
    out
}

fn concat(dir: &Path, name: &str, parts: &[&Path]) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    let mut args: Vec<&str> = parts
        .iter()
        .map(|p| p.to_str().expect("utf-8 path"))
        .collect();
    let out_text = out.to_str().expect("utf-8 path").to_string();
    args.push(&out_text);
    sox(&args, &[]);
    out
}

fn duration_ms(path: &Path) -> u64 {
    audio::decode_file(path, &DecodeLimits::default())
        .expect("generated audio decodes")
        .duration_ms()
}

/// Mandarin text as tone-numbered pinyin for espeak-ng's cmn-latn-pinyin voice.
fn pinyin(text: &str) -> String {
    let script = "import re,sys\nfrom pypinyin import Style, lazy_pinyin\nt=sys.argv[1]\n\
                  t=re.sub(r'[，、；：]', ', ', t)\nt=re.sub(r'[。！？]', '. ', t)\n\
                  s=lazy_pinyin(t, style=Style.TONE3, neutral_tone_with_five=True)\n\
                  print(re.sub(r'\\s+', ' ', ' '.join(s)).replace(' ,', ',').replace(' .', '.').strip())";
    let output = Command::new("python3")
        .args(["-c", script, text])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "pypinyin failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8 pinyin")
        .trim()
        .to_string()
}

fn score_file(
    engine: &Engine,
    scenario: &str,
    path: &Path,
    options: AnswerOptions,
) -> ScoredAnswer {
    let corpus = corpus();
    let scenario = drill::find_scenario(&corpus, scenario).expect("scenario exists");
    let samples = audio::decode_file(path, &DecodeLimits::default())
        .expect("answer decodes")
        .mono();
    drill::score_samples(engine, scenario, &samples, options).expect("answer scores")
}

fn matched_phrases(score: &DrillScore, strategy: &str) -> Vec<String> {
    let coverage = score
        .coverage
        .strategies
        .iter()
        .find(|s| s.strategy_id == strategy)
        .expect("strategy scored");
    coverage
        .phrases
        .iter()
        .filter(|p| p.matched)
        .map(|p| p.phrase.clone())
        .collect()
}

fn assert_latency(score: &DrillScore, expected_ms: i64) {
    let latency = score.latency.latency_ms.expect("answer has speech");
    assert!(
        (latency - expected_ms).abs() <= LATENCY_TOLERANCE_MS,
        "latency {latency} ms, expected {expected_ms} ms; transcript {:?}",
        score.transcript.text
    );
}

const EN_SELLER: [&str; 6] = ["-v", "en-us", "-p", "45", "-s", "160"];
const EN_CUSTOMER: [&str; 6] = ["-v", "en-gb", "-p", "70", "-s", "165"];

#[test]
fn english_answer_covers_known_phrases() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // 1500 ms of silence, then three total_cost phrases of price_too_expensive.
    let gap = silence(dir.path(), "gap", 1500);
    let answer = speak(dir.path(), "answer", "Let us look at the total cost of ownership over three years. Would the price still be the blocker?", &EN_SELLER);
    let file = concat(dir.path(), "drill", &[&gap, &answer]);

    let scored = score_file(
        &engine,
        "price_too_expensive",
        &file,
        AnswerOptions {
            language: LanguageChoice::Fixed(Language::En),
            ..AnswerOptions::default()
        },
    );

    let expected = vec![
        "total cost of ownership",
        "over three years",
        "would the price still be",
    ];
    assert_eq!(
        matched_phrases(&scored.score, "total_cost"),
        expected,
        "transcript {:?}",
        scored.score.transcript.text
    );
    assert_eq!(scored.score.coverage.best_strategy_id, "total_cost");
    assert_latency(&scored.score, 1500);
    assert!(scored
        .score
        .feedback
        .missed
        .iter()
        .any(|m| m.phrase == "current process costs"));
    assert!(scored.score.feedback.example.is_some());
}

#[test]
fn customer_line_then_gap_gives_latency() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // Customer trigger line, a 1200 ms gap, then two isolate_price phrases.
    let customer = speak(
        dir.path(),
        "customer",
        "Honestly, this is too expensive for us.",
        &EN_CUSTOMER,
    );
    let gap = silence(dir.path(), "gap", 1200);
    let answer = speak(
        dir.path(),
        "answer",
        "I see. Is there anything else that would stop you? And what number did you have in mind?",
        &EN_SELLER,
    );
    let file = concat(dir.path(), "drill", &[&customer, &gap, &answer]);
    let prompt_end_ms = duration_ms(&customer);

    let scored = score_file(
        &engine,
        "price_too_expensive",
        &file,
        AnswerOptions {
            prompt_end_ms,
            ..AnswerOptions::default()
        },
    );

    let expected = vec![
        "anything else that would stop you",
        "what number did you have in mind",
    ];
    assert_eq!(
        matched_phrases(&scored.score, "isolate_price"),
        expected,
        "transcript {:?}",
        scored.score.transcript.text
    );
    assert_latency(&scored.score, 1200);
}

#[test]
fn mandarin_answer_covers_known_phrases() {
    let Some(engine) = engine("base") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    // 1500 ms of silence, then tie_to_outcome phrases 第一年 and 回本; base
    // hears this espeak-ng voice's 总成本 as other characters, so that
    // total_cost phrase is not expected.
    let gap = silence(dir.path(), "gap", 1500);
    let voice = ["-v", "cmn-latn-pinyin", "-p", "35", "-s", "120"];
    let answer = speak(
        dir.path(),
        "answer",
        &pinyin("我们看一下总成本，第一年就能回本。"),
        &voice,
    );
    let file = concat(dir.path(), "drill", &[&gap, &answer]);

    let scored = score_file(
        &engine,
        "price_too_expensive",
        &file,
        AnswerOptions {
            language: LanguageChoice::Fixed(Language::Zh),
            ..AnswerOptions::default()
        },
    );

    let expected = vec!["回本", "第一年"];
    assert_eq!(
        matched_phrases(&scored.score, "tie_to_outcome"),
        expected,
        "transcript {:?}",
        scored.score.transcript.text
    );
    assert_eq!(scored.score.language, Language::Zh);
    assert_latency(&scored.score, 1500);
}

#[test]
fn mandarin_with_english_model_names_base() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let corpus = corpus();
    let scenario = drill::find_scenario(&corpus, "price_too_expensive").expect("scenario exists");
    let options = AnswerOptions {
        language: LanguageChoice::Fixed(Language::Zh),
        ..AnswerOptions::default()
    };

    let err = drill::AnswerSession::start(&engine, scenario, options)
        .err()
        .expect("English-only model is rejected");

    assert!(
        err.to_string().contains("callcoach model install base"),
        "{err}"
    );
}

#[test]
fn silent_answer_reports_no_speech() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let corpus = corpus();
    let scenario = drill::find_scenario(&corpus, "price_too_expensive").expect("scenario exists");
    let samples = vec![0.0f32; 16_000 * 3];

    let scored = drill::score_samples(&engine, scenario, &samples, AnswerOptions::default())
        .expect("silence scores");

    assert!(scored.score.transcript.no_speech);
    assert!(scored.score.latency.latency_ms.is_none());
    assert!(scored
        .score
        .feedback
        .notes
        .iter()
        .any(|n| n.code == NoteCode::EmptyAnswer));
}

#[test]
fn long_answer_is_flagged() {
    let Some(engine) = engine("tiny.en") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let answer = speak(
        dir.path(),
        "answer",
        "The total cost of ownership is lower over three years.",
        &EN_SELLER,
    );
    // A 2 s limit replaces the 5-minute one, because both follow the same rule.
    let options = AnswerOptions {
        max_answer_ms: 2000,
        ..AnswerOptions::default()
    };

    let scored = score_file(&engine, "price_too_expensive", &answer, options);

    assert!(scored.score.delivery.over_limit);
    assert!(scored
        .score
        .feedback
        .notes
        .iter()
        .any(|n| n.code == NoteCode::OverTimeLimit));
}

#[test]
fn unknown_scenario_lists_valid_ids() {
    let corpus = corpus();

    let err = drill::find_scenario(&corpus, "no_such_scenario")
        .err()
        .expect("unknown id is rejected");

    assert!(err.to_string().contains("price_too_expensive"), "{err}");
}

#[test]
fn corrupt_audio_error_names_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.wav");
    std::fs::write(&file, b"RIFF\x10\x00\x00\x00WAVEfmt garbage").expect("write file");

    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(root())
        .args([
            "drill",
            "score",
            "--scenario",
            "price_too_expensive",
            "--audio",
        ])
        .arg(&file)
        .output()
        .expect("callcoach runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("broken.wav"), "{stderr}");
}

#[test]
fn cli_unknown_scenario_lists_ids() {
    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(root())
        .args([
            "drill",
            "score",
            "--scenario",
            "nope",
            "--audio",
            "missing.wav",
        ])
        .output()
        .expect("callcoach runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("discount_request"), "{stderr}");
}

async fn store_with_users(dir: &Path) -> (Store, UserId, UserId) {
    let store = Store::open(&StoreConfig {
        data_dir: dir.to_path_buf(),
        database_url: None,
        max_connections: Some(2),
    })
    .await
    .expect("store opens");
    let team = store
        .create_team("Field sales")
        .await
        .expect("team created");
    let user = |email: &str, role| NewUser {
        team_id: Some(team.id.clone()),
        email: email.into(),
        display_name: email.into(),
        role,
    };
    let rep = store
        .create_user(&user("rep@example.com", Role::Rep))
        .await
        .expect("rep created");
    let coach = store
        .create_user(&user("coach@example.com", Role::Coach))
        .await
        .expect("coach created");
    (store, rep.id, coach.id)
}

#[tokio::test]
async fn daily_draw_covers_corpus_before_repeat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, rep, _) = store_with_users(dir.path()).await;
    let corpus = corpus();
    let count = corpus.scenarios().count();
    let start = time::macros::date!(2025 - 03 - 01);

    let mut drawn = Vec::new();
    for day in 0..count {
        let date = start + time::Duration::days(day as i64);
        let first = drill::today(&store, &corpus, &rep, date, Language::En)
            .await
            .expect("draw succeeds");
        let again = drill::today(&store, &corpus, &rep, date, Language::En)
            .await
            .expect("draw repeats");
        assert_eq!(
            first.scenario_id, again.scenario_id,
            "draw of {date} changed"
        );
        assert!(!first.customer_line.is_empty());
        assert_eq!(first.answer_limit_ms, 300_000);
        drawn.push(first.scenario_id);
    }

    let mut unique = drawn.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        count,
        "a scenario repeated before the round ended: {drawn:?}"
    );
}

#[tokio::test]
async fn drill_is_drawn_for_reps_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, _, coach) = store_with_users(dir.path()).await;
    let date = time::macros::date!(2025 - 03 - 01);

    let err = drill::today(&store, &corpus(), &coach, date, Language::En)
        .await
        .expect_err("a coach draws no drill");

    assert!(err.to_string().contains("is a coach, not a rep"), "{err}");
    let history = store
        .draw_history(&coach, date, date + time::Duration::days(1))
        .await
        .expect("history reads");
    assert!(history.is_empty(), "no draw recorded for the coach");
}

#[test]
fn prompt_end_past_the_recording_is_rejected() {
    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(root())
        .args([
            "drill",
            "score",
            "--scenario",
            "price_too_expensive",
            "--audio",
        ])
        .arg(root().join("tests/fixtures/generated/vad_gap1200_en.wav"))
        .args(["--prompt-end-ms", "600000"])
        .output()
        .expect("callcoach runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("--prompt-end-ms 600000 is at or past the end"),
        "{stderr}"
    );
}

#[test]
fn kb_search_rejects_zero_limit() {
    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(root())
        .args(["kb", "search", "price", "--limit", "0"])
        .output()
        .expect("callcoach runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--limit"), "{stderr}");
    assert!(stderr.contains("1..=1000"), "{stderr}");
}

fn text_score(scenario: &str, text: &str) -> DrillScore {
    let words: Vec<Word> = text
        .split_whitespace()
        .zip(0u64..)
        .map(|(w, i)| Word {
            start_ms: 1000 + i * 350,
            end_ms: 1300 + i * 350,
            text: format!(" {w}"),
            probability: 0.9,
        })
        .collect();
    let end_ms = words.last().map_or(0, |w| w.end_ms);
    let transcript = Transcript {
        language: "en".into(),
        duration_ms: end_ms + 400,
        no_speech: false,
        text: text.into(),
        segments: vec![Segment {
            start_ms: 1000,
            end_ms,
            text: text.into(),
            words,
        }],
    };
    let corpus = corpus();
    let scenario = drill::find_scenario(&corpus, scenario).expect("scenario exists");
    score_answer(scenario, &transcript, &[], &ScoreOptions::default()).expect("answer scores")
}

#[tokio::test]
async fn coach_override_keeps_original_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, rep, coach_id) = store_with_users(dir.path()).await;
    let corpus = corpus();
    let scenario = drill::find_scenario(&corpus, "price_too_expensive").expect("scenario exists");
    let score = text_score("price_too_expensive", "I hear you. Over three years the total cost of ownership is lower than what it costs you today.");
    let date = time::macros::date!(2025 - 03 - 04);
    let attempt = drill::store_attempt(&store, &rep, date, scenario, &score, None)
        .await
        .expect("attempt stored");
    let phrase = coach::phrase_id("total_cost", "would the price still be");

    let first = coach::override_attempt(
        &store,
        &attempt.id,
        OverrideChange::PhraseMatch {
            phrase_id: phrase.clone(),
            matched: true,
        },
        "said it in other words",
        &coach_id,
    )
    .await
    .expect("override added");
    let second = coach::override_attempt(
        &store,
        &attempt.id,
        OverrideChange::OverallScore {
            score: Score::new(88.0).expect("valid"),
        },
        "strong answer",
        &coach_id,
    )
    .await
    .expect("override added");

    assert!(first.reviewed.effective.overall.score > score.overall.score);
    let original = serde_json::to_value(&second.reviewed.original).expect("serialises");
    assert_eq!(original, serde_json::to_value(&score).expect("serialises"));
    assert!((second.reviewed.effective.overall.score - 88.0).abs() < 1e-9);
    assert_eq!(second.history.len(), 2);
    let stored = store
        .drill_attempt(&attempt.id)
        .await
        .expect("attempt reads");
    assert!((stored.overall_score.expect("scored").value() - score.overall.score).abs() < 1e-9);
}

#[tokio::test]
async fn override_rejects_rep_and_unknown_phrase() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, rep, coach_id) = store_with_users(dir.path()).await;
    let corpus = corpus();
    let scenario = drill::find_scenario(&corpus, "price_too_expensive").expect("scenario exists");
    let score = text_score(
        "price_too_expensive",
        "The total cost of ownership is lower.",
    );
    let date = time::macros::date!(2025 - 03 - 04);
    let attempt = drill::store_attempt(&store, &rep, date, scenario, &score, None)
        .await
        .expect("attempt stored");
    let change = || OverrideChange::PhraseMatch {
        phrase_id: "total_cost/no such phrase".into(),
        matched: true,
    };

    let by_rep = coach::override_attempt(&store, &attempt.id, change(), "mine", &rep)
        .await
        .err()
        .expect("rep is rejected");
    let unknown = coach::override_attempt(&store, &attempt.id, change(), "typo", &coach_id)
        .await
        .err()
        .expect("phrase is rejected");

    assert!(by_rep.to_string().contains("coach"), "{by_rep}");
    assert!(
        unknown.to_string().contains("total_cost/over three years"),
        "{unknown}"
    );
}
