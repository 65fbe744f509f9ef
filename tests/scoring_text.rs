//! Scoring of text answers with synthetic word timings: phrase matching
//! robust to word forms, synonyms, order and recognition errors, keyword
//! stuffing, latency, fillers and the overall formula.
//!
//! English words last 400 ms each (150 words per minute) and Mandarin
//! characters 250 ms each (240 characters per minute), so delivery is in
//! its target band unless a test changes the timing.

use callcoach::audio::vad::SpeechRegion;
use callcoach::knowledge::{
    Example, KeyPhrase, LatencyBand, PhraseStatus, Scenario, Snippet, Strategy,
};
use callcoach::language::Language;
use callcoach::scoring::{
    overall_score, score_answer, DrillScore, FormKind, LatencyClass, LatencyKind, MatchMode,
    MissingReason, NoteCode, PhraseMatch, ScoreOptions, StuffingReason,
};
use callcoach::skill::Dimension;
use callcoach::transcribe::{Segment, Transcript, Word};

const EN_WORD_MS: u64 = 400;
const ZH_CHAR_MS: u64 = 250;
const ANSWER_START_MS: u64 = 800;

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

fn phrase(
    lang: Language,
    text: &str,
    weight: f32,
    synonyms: &[&str],
    variants: &[&str],
) -> KeyPhrase {
    KeyPhrase {
        lang,
        text: text.into(),
        weight,
        synonyms: synonyms.iter().map(|s| s.to_string()).collect(),
        variants: variants.iter().map(|s| s.to_string()).collect(),
        status: PhraseStatus::Approved,
    }
}

fn example(lang: Language, text: &str) -> Example {
    let snippet = Snippet {
        audio: "audio/price_tco.wav".into(),
        start_ms: 1200,
        end_ms: 9800,
    };
    Example {
        lang,
        seller: "Dana".into(),
        text: text.into(),
        snippets: vec![snippet],
    }
}

fn scenario() -> Scenario {
    use Language::{En, Zh};
    let tco = Strategy {
        id: "total_cost".into(),
        name_en: "Total cost".into(),
        name_zh: "总成本".into(),
        examples: vec![
            example(
                En,
                "Let's compare vendors on the total cost of ownership, not the sticker price.",
            ),
            example(Zh, "我们算一下总成本，看看投资回报。"),
        ],
        key_phrases: vec![
            phrase(En, "total cost of ownership", 2.0, &["lifetime cost"], &[]),
            phrase(En, "compare vendors", 1.0, &[], &[]),
            phrase(En, "return on investment", 1.0, &["roi"], &[]),
            phrase(Zh, "总成本", 2.0, &[], &[]),
            phrase(Zh, "价格", 1.0, &[], &[]),
            phrase(Zh, "投资回报", 1.0, &["回报率"], &[]),
        ],
    };
    let risk = Strategy {
        id: "risk".into(),
        name_en: "Lower the risk".into(),
        name_zh: "降低风险".into(),
        examples: vec![example(En, "We reduce risk and save time from day one.")],
        key_phrases: vec![
            phrase(En, "reduce risk", 1.0, &[], &[]),
            phrase(En, "save time", 1.0, &[], &["saved time"]),
            phrase(Zh, "降低风险", 1.0, &[], &[]),
        ],
    };
    let trial = Strategy {
        id: "trial".into(),
        name_en: "Free trial".into(),
        name_zh: "免费试用".into(),
        examples: vec![example(En, "Start with a free trial and a pilot project.")],
        key_phrases: vec![
            phrase(En, "free trial", 1.0, &[], &[]),
            phrase(En, "pilot project", 1.0, &[], &[]),
        ],
    };
    Scenario {
        id: "price_too_high".into(),
        title_en: "The price is too high".into(),
        title_zh: "价格太高".into(),
        dimensions: vec![Dimension::ObjectionHandling],
        triggers: Vec::new(),
        latency: LatencyBand {
            min_ms: 300,
            max_ms: 1500,
            top_seller_ms: 700,
        },
        strategies: vec![tco, risk, trial],
    }
}

/// Builds a one-segment transcript: English words split at spaces, Mandarin
/// one word per Han character with punctuation joined to the previous word.
fn transcript(text: &str, language: &str) -> Transcript {
    let pieces = if language == "zh" {
        han_pieces(text)
    } else {
        text.split_whitespace().map(String::from).collect()
    };
    let step = if language == "zh" {
        ZH_CHAR_MS
    } else {
        EN_WORD_MS
    };
    let words: Vec<Word> = (0u64..)
        .zip(pieces)
        .map(|(i, piece)| Word {
            start_ms: ANSWER_START_MS + i * step,
            end_ms: ANSWER_START_MS + (i + 1) * step,
            text: piece,
            probability: 0.9,
        })
        .collect();
    let end_ms = words.last().map_or(ANSWER_START_MS, |w| w.end_ms);
    let segments = if words.is_empty() {
        Vec::new()
    } else {
        vec![Segment {
            start_ms: ANSWER_START_MS,
            end_ms,
            text: text.into(),
            words,
        }]
    };
    Transcript {
        language: language.into(),
        duration_ms: end_ms + 500,
        no_speech: segments.is_empty(),
        text: text.into(),
        segments,
    }
}

fn han_pieces(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        match pieces.last_mut() {
            Some(last) if !c.is_alphanumeric() => last.push(c),
            _ => pieces.push(c.to_string()),
        }
    }
    pieces
}

fn score(text: &str, language: &str) -> DrillScore {
    score_answer(
        &scenario(),
        &transcript(text, language),
        &[],
        &ScoreOptions::default(),
    )
    .expect("valid scenario")
}

fn phrase_result<'a>(score: &'a DrillScore, strategy: &str, phrase: &str) -> &'a PhraseMatch {
    let coverage = score
        .coverage
        .strategies
        .iter()
        .find(|s| s.strategy_id == strategy)
        .expect("strategy present");
    coverage
        .phrases
        .iter()
        .find(|p| p.phrase == phrase)
        .expect("phrase present")
}

fn strategy_coverage(score: &DrillScore, strategy: &str) -> f64 {
    score
        .coverage
        .strategies
        .iter()
        .find(|s| s.strategy_id == strategy)
        .map_or(-1.0, |s| s.coverage)
}

#[test]
fn synonym_matches_with_form_kind() {
    let score = score("Think about the lifetime cost of the system.", "en");

    let result = phrase_result(&score, "total_cost", "total cost of ownership");
    assert!(result.matched);
    let occurrence = result.occurrence.as_ref().expect("occurrence");
    assert_eq!(occurrence.form, FormKind::Synonym);
    assert_eq!(occurrence.words, ["lifetime", "cost"]);
}

#[test]
fn word_forms_match_by_stem() {
    for answer in [
        "We compared vendors last year.",
        "Start comparing vendors today.",
        "Compare vendor offers.",
    ] {
        let score = score(answer, "en");

        let result = phrase_result(&score, "total_cost", "compare vendors");
        assert!(result.matched, "{answer}");
        assert_eq!(
            result.occurrence.as_ref().map(|o| o.mode),
            Some(MatchMode::Exact),
            "{answer}"
        );
    }
}

#[test]
fn irregular_variant_matches() {
    let score = score("Our customers saved time in the first week.", "en");

    let result = phrase_result(&score, "risk", "save time");
    assert!(result.matched);
}

#[test]
fn reordered_phrase_earns_less() {
    let score = score("The risk we reduce first is cost.", "en");

    let result = phrase_result(&score, "risk", "reduce risk");
    assert!(result.matched);
    assert_eq!(
        result.occurrence.as_ref().map(|o| o.mode),
        Some(MatchMode::Reordered)
    );
    assert!(near(result.credit, 0.8));
}

#[test]
fn mandarin_reordered_phrase_matches() {
    let score = score("风险可以降低。", "zh");

    let result = phrase_result(&score, "risk", "降低风险");
    assert!(result.matched);
    assert_eq!(
        result.occurrence.as_ref().map(|o| o.mode),
        Some(MatchMode::Reordered)
    );
}

#[test]
fn reordered_phrase_outside_window_misses() {
    let score = score(
        "The risk is clear and honestly this is what we want to reduce.",
        "en",
    );

    assert!(!phrase_result(&score, "risk", "reduce risk").matched);
}

#[test]
fn english_typo_matches_tolerantly() {
    let score = score(
        "Look at the totel cost of ownership over three years.",
        "en",
    );

    let result = phrase_result(&score, "total_cost", "total cost of ownership");
    assert!(result.matched);
    let occurrence = result.occurrence.as_ref().expect("occurrence");
    assert_eq!(occurrence.mode, MatchMode::AsrTolerant);
    assert_eq!(occurrence.words.first().map(String::as_str), Some("totel"));
    assert!(near(result.credit, 1.0));
}

#[test]
fn merged_words_match_tolerantly() {
    let score = score("The total costof ownership is lower.", "en");

    assert!(phrase_result(&score, "total_cost", "total cost of ownership").matched);
}

#[test]
fn unrelated_words_do_not_match() {
    let score = score("Our team visited the factory and met the staff.", "en");

    assert!(near(score.coverage.best_coverage, 0.0));
    assert!(score
        .coverage
        .strategies
        .iter()
        .all(|s| s.phrases.iter().all(|p| !p.matched)));
}

#[test]
fn mandarin_homophones_match() {
    let score = score("我们看一下总城本，这个架格其实不高。", "zh");

    let total = phrase_result(&score, "total_cost", "总成本");
    let price = phrase_result(&score, "total_cost", "价格");
    assert!(total.matched);
    assert!(price.matched);
    assert_eq!(
        total.occurrence.as_ref().map(|o| o.mode),
        Some(MatchMode::AsrTolerant)
    );
    assert_eq!(
        price.occurrence.as_ref().map(|o| o.words.concat()),
        Some("架格".to_string())
    );
}

#[test]
fn mandarin_unrelated_characters_miss() {
    let score = score("我们看一下总部的人，这个猫其实不高。", "zh");

    assert!(!phrase_result(&score, "total_cost", "总成本").matched);
    assert!(!phrase_result(&score, "total_cost", "价格").matched);
}

#[test]
fn traditional_input_is_folded() {
    let score = score("我們算一下總成本，看看投資回報。", "zh");

    assert!(phrase_result(&score, "total_cost", "总成本").matched);
    assert!(phrase_result(&score, "total_cost", "投资回报").matched);
    assert_eq!(
        phrase_result(&score, "total_cost", "总成本")
            .occurrence
            .as_ref()
            .map(|o| o.mode),
        Some(MatchMode::Exact)
    );
}

#[test]
fn phrase_said_twice_counts_once() {
    let once = score(
        "The total cost of ownership matters and we can show you how.",
        "en",
    );
    let twice = score(
        "The total cost of ownership matters and the total cost of ownership is lower.",
        "en",
    );

    let result = phrase_result(&twice, "total_cost", "total cost of ownership");
    assert_eq!(result.count, 2);
    assert_eq!(
        result.occurrence.as_ref().map(|o| o.start_ms),
        Some(ANSWER_START_MS + EN_WORD_MS)
    );
    assert!(near(
        strategy_coverage(&twice, "total_cost"),
        strategy_coverage(&once, "total_cost")
    ));
}

#[test]
fn coverage_is_weighted_share() {
    let score = score(
        "We looked at the total cost of ownership for your team.",
        "en",
    );

    assert!(near(strategy_coverage(&score, "total_cost"), 0.5));
    assert_eq!(score.coverage.best_strategy_id, "total_cost");
}

#[test]
fn best_strategy_follows_answer() {
    let score = score(
        "With a free trial and a pilot project you can reduce risk.",
        "en",
    );

    assert_eq!(score.coverage.best_strategy_id, "trial");
    assert!(near(score.coverage.best_coverage, 1.0));
    assert!(near(strategy_coverage(&score, "risk"), 0.5));
}

#[test]
fn tie_goes_to_earlier_strategy() {
    let score = score("Nothing here matches at all.", "en");

    assert_eq!(score.coverage.best_strategy_id, "total_cost");
}

#[test]
fn keyword_stuffing_scores_lower() {
    let real = score(
        "I understand the concern. If we compare vendors on the total cost of ownership instead of the \
         sticker price, the return on investment is clear, and our customers reduce risk because they \
         save time in the first month.",
        "en",
    );
    let stuffed = score(
        "compare vendors total cost of ownership return on investment reduce risk save time",
        "en",
    );

    assert!(!real.coverage.stuffing.flagged);
    assert!(stuffed.coverage.stuffing.flagged);
    assert!(stuffed
        .coverage
        .stuffing
        .reasons
        .contains(&StuffingReason::PhraseDensity));
    assert!(near(
        strategy_coverage(&stuffed, "total_cost"),
        strategy_coverage(&real, "total_cost")
    ));
    assert!(stuffed.coverage.best_coverage < real.coverage.best_coverage * 0.6);
    assert!(
        stuffed.overall.score + 15.0 < real.overall.score,
        "{} vs {}",
        stuffed.overall.score,
        real.overall.score
    );
}

#[test]
fn padded_stuffing_is_flagged_back_to_back() {
    let stuffed = score(
        "okay okay compare vendors total cost of ownership yes yes yes return on investment okay okay \
         great reduce risk okay save time okay okay okay okay okay okay okay",
        "en",
    );

    assert!(stuffed.coverage.stuffing.flagged);
    assert!(stuffed
        .coverage
        .stuffing
        .reasons
        .contains(&StuffingReason::BackToBack));
    assert!(stuffed
        .feedback
        .notes
        .iter()
        .any(|n| n.code == NoteCode::KeywordStuffing));
}

#[test]
fn mandarin_stuffing_is_flagged() {
    let stuffed = score("总成本投资回报价格降低风险", "zh");
    let real = score(
        "我理解您的顾虑，我们可以一起算一下总成本，三年下来投资回报其实更高，价格也合理。",
        "zh",
    );

    assert!(stuffed.coverage.stuffing.flagged);
    assert!(!real.coverage.stuffing.flagged);
    assert!(stuffed.overall.score < real.overall.score);
}

#[test]
fn empty_answer_scores_zero() {
    let empty = Transcript::silent("en", 4000);

    let score =
        score_answer(&scenario(), &empty, &[], &ScoreOptions::default()).expect("valid scenario");

    assert!(near(score.coverage.best_coverage, 0.0));
    assert_eq!(score.coverage.missing, Some(MissingReason::EmptyAnswer));
    assert!(near(score.overall.score, 0.0));
    assert_eq!(score.latency.class, None);
    assert!(score
        .feedback
        .notes
        .iter()
        .any(|n| n.code == NoteCode::EmptyAnswer));
    assert_eq!(score.feedback.missed.len(), 3);
}

#[test]
fn mandarin_answer_uses_mandarin_phrases() {
    let score = score("我们算一下总成本，看看投资回报。", "zh");

    assert_eq!(score.language, Language::Zh);
    assert!(near(strategy_coverage(&score, "total_cost"), 0.75));
    let tco = &score.coverage.strategies[0];
    assert!(tco.phrases.iter().all(|p| !p.phrase.is_ascii()));
}

#[test]
fn strategy_without_language_phrases_says_so() {
    let score = score("我们算一下总成本。", "zh");

    let trial = score
        .coverage
        .strategies
        .iter()
        .find(|s| s.strategy_id == "trial")
        .expect("trial");
    assert_eq!(trial.missing, Some(MissingReason::NoPhrasesInLanguage));
    assert!(trial.phrases.is_empty());
    assert!(near(trial.coverage, 0.0));
}

#[test]
fn explicit_language_overrides_transcript() {
    let options = ScoreOptions {
        language: Some(Language::Zh),
        ..ScoreOptions::default()
    };

    let score = score_answer(&scenario(), &transcript("总成本很低", "en"), &[], &options)
        .expect("valid scenario");

    assert_eq!(score.language, Language::Zh);
    assert!(phrase_result(&score, "total_cost", "总成本").matched);
}

#[test]
fn unknown_transcript_language_is_rejected() {
    let err = score_answer(
        &scenario(),
        &transcript("le prix", "fr"),
        &[],
        &ScoreOptions::default(),
    )
    .unwrap_err();

    assert!(err.to_string().contains("\"fr\""));
}

#[test]
fn latency_band_classification() {
    let cases = [
        (1000, 1100, LatencyClass::TooFast),
        (1000, 1700, LatencyClass::InBand),
        (1000, 3000, LatencyClass::TooSlow),
    ];
    for (prompt_end_ms, onset_ms, expected) in cases {
        let speech = [SpeechRegion {
            start_ms: onset_ms,
            end_ms: onset_ms + 3000,
        }];
        let options = ScoreOptions {
            prompt_end_ms,
            latency_kind: LatencyKind::Call,
            ..ScoreOptions::default()
        };

        let score = score_answer(
            &scenario(),
            &transcript("We can reduce risk.", "en"),
            &speech,
            &options,
        )
        .expect("valid");

        assert_eq!(score.latency.class, Some(expected), "onset {onset_ms}");
        assert_eq!(
            score.latency.latency_ms,
            Some(onset_ms as i64 - prompt_end_ms as i64)
        );
        assert_eq!(score.latency.kind, LatencyKind::Call);
        assert_eq!(score.latency.band.top_seller_ms, 700);
    }
}

#[test]
fn drill_latency_uses_first_word() {
    let score = score("We can reduce risk.", "en");

    assert_eq!(score.latency.kind, LatencyKind::Drill);
    assert_eq!(score.latency.latency_ms, Some(ANSWER_START_MS as i64));
    assert_eq!(score.latency.class, Some(LatencyClass::InBand));
}

#[test]
fn english_fillers_are_counted() {
    let score = score(
        "Um, so, like, we can, uh, reduce risk, you know, and I like that.",
        "en",
    );

    assert_eq!(score.delivery.filler_count, 4);
    let names: Vec<&str> = score
        .delivery
        .fillers
        .iter()
        .map(|f| f.filler.as_str())
        .collect();
    assert_eq!(names, ["um", "like", "uh", "you know"]);
}

#[test]
fn mandarin_fillers_are_counted() {
    let score = score("嗯，那个，我们的总成本呃其实更低，然后我们签约。", "zh");

    assert_eq!(score.delivery.filler_count, 3);
    assert!(score.delivery.fillers.iter().any(|f| f.filler == "那个"));
    assert!(score.delivery.fillers.iter().all(|f| f.filler != "然后"));
}

#[test]
fn speaking_rate_uses_language_unit() {
    let en = score("We can reduce risk and save time for your team.", "en");
    let zh = score("我们算一下总成本，看看投资回报。", "zh");

    assert!(near(en.delivery.rate, 150.0));
    assert!(near(zh.delivery.rate, 240.0));
}

#[test]
fn long_answer_is_over_limit() {
    let options = ScoreOptions {
        max_answer_ms: 2000,
        ..ScoreOptions::default()
    };

    let score = score_answer(
        &scenario(),
        &transcript("We can reduce risk and save time.", "en"),
        &[],
        &options,
    )
    .expect("valid");

    assert!(score.delivery.over_limit);
    assert!(score
        .feedback
        .notes
        .iter()
        .any(|n| n.code == NoteCode::OverTimeLimit));
}

#[test]
fn overall_score_stays_in_bounds() {
    let values = [
        -1.0,
        0.0,
        0.25,
        0.5,
        0.75,
        1.0,
        2.0,
        f64::NAN,
        f64::INFINITY,
    ];
    for coverage in values {
        for latency in values {
            for delivery in values {
                let score = overall_score(coverage, latency, delivery).score;
                assert!(
                    (0.0..=100.0).contains(&score),
                    "{coverage} {latency} {delivery}: {score}"
                );
            }
        }
    }
}

#[test]
fn more_coverage_never_lowers_score() {
    let steps: Vec<f64> = (0..=20).map(|i| f64::from(i) / 20.0).collect();
    for latency in [0.0, 0.4, 1.0] {
        for delivery in [0.0, 0.7, 1.0] {
            let scores: Vec<f64> = steps
                .iter()
                .map(|c| overall_score(*c, latency, delivery).score)
                .collect();
            assert!(
                scores.windows(2).all(|w| w[0] <= w[1]),
                "latency {latency} delivery {delivery}"
            );
        }
    }
}

#[test]
fn answers_with_more_phrases_score_higher() {
    let one_phrase = score(
        "I understand. We looked at the total cost of ownership for a company like yours.",
        "en",
    );
    let two_phrases = score(
        "I understand. We looked at the total cost of ownership and the return on investment.",
        "en",
    );

    assert!(two_phrases.coverage.best_coverage > one_phrase.coverage.best_coverage);
    assert!(two_phrases.overall.score > one_phrase.overall.score);
}

#[test]
fn scoring_is_deterministic() {
    let text = "Um, if we compare vendors, the total cost of ownership is lower.";

    assert_eq!(score(text, "en"), score(text, "en"));
}

#[test]
fn feedback_lists_missed_phrases_with_example() {
    let score = score(
        "We looked at the total cost of ownership for your team.",
        "en",
    );

    let missed: Vec<&str> = score
        .feedback
        .missed
        .iter()
        .map(|m| m.phrase.as_str())
        .collect();
    assert_eq!(missed, ["compare vendors", "return on investment"]);
    let example = score.feedback.example.as_ref().expect("example");
    assert_eq!(example.language, Language::En);
    assert!(example.text.contains("total cost of ownership"));
    assert_eq!(example.snippet.as_ref().map(|s| s.start_ms), Some(1200));
}

#[test]
fn json_uses_stable_field_names() {
    let score = score("We looked at the total cost of ownership.", "en");

    let json = serde_json::to_value(&score).expect("serialisable");

    for key in [
        "scenario_id",
        "language",
        "transcript",
        "coverage",
        "latency",
        "delivery",
        "overall",
        "feedback",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["coverage"]["best_strategy_id"], "total_cost");
    assert_eq!(
        json["coverage"]["strategies"][0]["phrases"][0]["occurrence"]["mode"],
        "exact"
    );
    assert_eq!(json["latency"]["class"], "in_band");
    assert_eq!(json["delivery"]["rate_unit"], "words_per_minute");
    let back: DrillScore = serde_json::from_value(json).expect("deserialisable");
    assert_eq!(
        back.coverage.best_strategy_id,
        score.coverage.best_strategy_id
    );
}

#[test]
fn zero_weight_phrase_is_rejected() {
    let mut scenario = scenario();
    scenario.strategies[0].key_phrases[0].weight = 0.0;

    let err = score_answer(
        &scenario,
        &transcript("total cost", "en"),
        &[],
        &ScoreOptions::default(),
    )
    .unwrap_err();

    assert!(err.to_string().contains("total cost of ownership"));
}

#[test]
fn proposed_phrases_are_ignored() {
    let mut scenario = scenario();
    scenario.strategies[2].key_phrases[0].status = PhraseStatus::Proposed;

    let score = score_answer(
        &scenario,
        &transcript("A free trial helps.", "en"),
        &[],
        &ScoreOptions::default(),
    )
    .expect("valid");

    let trial = score
        .coverage
        .strategies
        .iter()
        .find(|s| s.strategy_id == "trial")
        .expect("trial");
    assert_eq!(trial.phrases.len(), 1);
    assert!(near(trial.coverage, 0.0));
}

#[test]
fn zero_answer_limit_is_rejected() {
    let options = ScoreOptions {
        max_answer_ms: 0,
        ..ScoreOptions::default()
    };

    let err = score_answer(
        &scenario(),
        &transcript("We can reduce risk.", "en"),
        &[],
        &options,
    )
    .unwrap_err();

    assert!(err.to_string().contains("max_answer_ms"));
}

#[test]
fn reversed_speech_region_is_rejected() {
    let speech = [SpeechRegion {
        start_ms: 2000,
        end_ms: 1000,
    }];

    let result = score_answer(
        &scenario(),
        &transcript("We can reduce risk.", "en"),
        &speech,
        &ScoreOptions::default(),
    );

    assert!(result.unwrap_err().to_string().contains("2000..1000"));
}

/// Returns the corpus candidates folder, or `None` with a skip line.
fn corpus_dir(test: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("CALLCOACH_CORPUS_CANDIDATES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "../shared/corpus-candidates".into());
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!(
        "skipping {test}: corpus candidates not found at {} (set CALLCOACH_CORPUS_CANDIDATES)",
        dir.display()
    );
    None
}

/// Reads the `[销售回答]` lines of the Mandarin real-estate sales answers.
fn mandarin_sales_answers(dir: &std::path::Path) -> Vec<String> {
    let path = dir.join("text/zh_real_estate_sales_objections.txt");
    let content = std::fs::read_to_string(&path).expect("readable sales answers file");
    content
        .lines()
        .filter_map(|line| line.trim().strip_prefix("[销售回答]"))
        .map(|answer| answer.trim().to_string())
        .filter(|answer| !answer.is_empty())
        .collect()
}

/// Builds a one-strategy scenario whose Mandarin phrases are the three
/// longest distinct jieba words (two characters or more) of `answer`.
fn scenario_from_answer(answer: &str) -> (Scenario, Vec<String>) {
    let mut words: Vec<String> = callcoach::text::segment_zh(answer)
        .into_iter()
        .filter(|w| w.chars().count() >= 2 && w.chars().all(callcoach::language::is_han))
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words.dedup();
    words.truncate(3);
    let mut scenario = scenario();
    scenario.strategies[0].key_phrases = words
        .iter()
        .map(|w| phrase(Language::Zh, w, 1.0, &[], &[]))
        .collect();
    scenario.strategies.truncate(1);
    (scenario, words)
}

#[test]
fn real_mandarin_answers_are_not_stuffing() {
    let Some(dir) = corpus_dir("real_mandarin_answers_are_not_stuffing") else {
        return;
    };
    let answers = mandarin_sales_answers(&dir);
    assert!(
        answers.len() >= 50,
        "expected at least 50 answers, found {}",
        answers.len()
    );

    let mut flagged = Vec::new();
    for answer in &answers {
        let (scenario, words) = scenario_from_answer(answer);
        if words.len() < 2 {
            continue;
        }
        let options = ScoreOptions::default();
        let real =
            score_answer(&scenario, &transcript(answer, "zh"), &[], &options).expect("valid");
        let stuffed = score_answer(&scenario, &transcript(&words.concat(), "zh"), &[], &options)
            .expect("valid");

        assert!(
            near(real.coverage.strategies[0].coverage, 1.0),
            "{answer}: {words:?}"
        );
        assert!(stuffed.coverage.stuffing.flagged, "{words:?}");
        if real.coverage.stuffing.flagged {
            flagged.push(answer.clone());
        }
    }
    assert!(
        flagged.is_empty(),
        "real answers flagged as stuffing: {flagged:?}"
    );
}

#[test]
fn real_mandarin_answers_in_traditional() {
    let Some(dir) = corpus_dir("real_mandarin_answers_in_traditional") else {
        return;
    };

    for answer in mandarin_sales_answers(&dir) {
        let (scenario, words) = scenario_from_answer(&answer);
        let traditional = zhconv::zhconv(&answer, zhconv::Variant::ZhHant);
        let options = ScoreOptions::default();
        let score =
            score_answer(&scenario, &transcript(&traditional, "zh"), &[], &options).expect("valid");

        let coverage = score.coverage.strategies[0].coverage;
        assert!(
            near(coverage, 1.0),
            "{traditional}: {words:?} coverage {coverage}"
        );
    }
}

#[test]
fn recorded_dialog_latency_matches_truth() {
    let Some(dir) = corpus_dir("recorded_dialog_latency_matches_truth") else {
        return;
    };
    let truth = std::fs::read_to_string(dir.join("tts/dialog_en_price_gap1200ms.truth.txt"))
        .expect("readable truth file");
    let field = |prefix: &str| -> String {
        let line = truth
            .lines()
            .find(|l| l.starts_with(prefix))
            .expect("truth field present");
        line[prefix.len()..].to_string()
    };
    let seconds_ms = |text: &str| -> u64 {
        let seconds: f64 = text.parse().expect("seconds as a number");
        (seconds * 1000.0).round() as u64
    };
    let customer_end = field("customer_channel=L start=0.000 end=");
    let rep = field("rep_channel=R start=");
    let (rep_start, rep_end) = rep.split_once(" end=").expect("rep start and end");
    let rep_text = field("rep_text=");
    let speech = [SpeechRegion {
        start_ms: seconds_ms(rep_start),
        end_ms: seconds_ms(rep_end),
    }];
    let options = ScoreOptions {
        prompt_end_ms: seconds_ms(&customer_end),
        latency_kind: LatencyKind::Call,
        ..ScoreOptions::default()
    };

    let score =
        score_answer(&scenario(), &transcript(&rep_text, "en"), &speech, &options).expect("valid");

    let expected_ms = seconds_ms(&field("response_latency_s=")) as i64;
    assert_eq!(score.latency.latency_ms, Some(expected_ms));
    assert_eq!(score.latency.class, Some(LatencyClass::InBand));
    assert!(score.coverage.strategies[0]
        .phrases
        .iter()
        .all(|p| p.phrase != "价格"));
}
