//! Validation of one `[[strategies]]` table: examples, snippets and key
//! phrases.

use std::ops::RangeInclusive;
use std::path::Path;

use super::analyzer::count_answer_units;
use super::raw::{RawExample, RawPhrase, RawSnippet, RawStrategy, S};
use super::snippet::{wav_duration_ms, GENERATED_AUDIO_DIR};
use super::validate::{phrase_occurs, FileCheck};
use super::{Example, KeyPhrase, PhraseStatus, Snippet, Strategy};
use crate::language::Language;

/// Allowed length of an English example answer, in words.
pub(crate) const EN_ANSWER_WORDS: RangeInclusive<usize> = 40..=120;
/// Allowed length of a Mandarin example answer, in Han characters plus
/// Latin words.
pub(crate) const ZH_ANSWER_UNITS: RangeInclusive<usize> = 80..=200;

/// Checks of one strategy, reporting into the file's problem list.
pub(crate) struct StrategyCheck<'c, 'a> {
    file: &'c mut FileCheck<'a>,
    prefix: String,
}

impl<'c, 'a> StrategyCheck<'c, 'a> {
    /// Starts the check of strategy number `index`.
    pub(crate) fn new(file: &'c mut FileCheck<'a>, index: usize) -> Self {
        StrategyCheck {
            file,
            prefix: format!("strategies[{index}]"),
        }
    }

    /// Checks the strategy and returns it when every part is valid.
    pub(crate) fn run(mut self, item: &S<RawStrategy>) -> Option<Strategy> {
        let at = item.span().start;
        let raw = item.get_ref();
        let id = self.file.id(&raw.id, at, &self.field("id"));
        let name_en = self.file.text(&raw.name_en, at, &self.field("name_en"));
        let name_zh = self.file.text(&raw.name_zh, at, &self.field("name_zh"));
        let examples = self.examples(raw, at);
        let answers = raw_answers(raw);
        let key_phrases = self.key_phrases(raw, at, &answers);
        Some(Strategy {
            id: id?,
            name_en: name_en?,
            name_zh: name_zh?,
            examples: examples?,
            key_phrases: key_phrases?,
        })
    }

    fn field(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    fn examples(&mut self, raw: &RawStrategy, at: usize) -> Option<Vec<Example>> {
        let list = self
            .file
            .required(&raw.examples, at, &self.field("examples"))?;
        let mut out = Vec::new();
        let mut complete = true;
        for (i, item) in list.get_ref().iter().enumerate() {
            match self.example(item, &self.field(&format!("examples[{i}]"))) {
                Some(example) => out.push(example),
                None => complete = false,
            }
        }
        for lang in Language::ALL {
            if complete && !out.iter().any(|e: &Example| e.lang == lang) {
                let message = format!("needs an example answer in {lang}");
                self.file
                    .report(list.span().start, &self.field("examples"), message);
                complete = false;
            }
        }
        complete.then_some(out)
    }

    fn example(&mut self, item: &S<RawExample>, field: &str) -> Option<Example> {
        let at = item.span().start;
        let raw = item.get_ref();
        let lang = self.file.lang(&raw.lang, at, &format!("{field}.lang"));
        let seller = self.file.text(&raw.seller, at, &format!("{field}.seller"));
        let text = self.file.text(&raw.text, at, &format!("{field}.text"));
        if let (Some(lang), Some(text), Some(value)) = (lang, &text, &raw.text) {
            self.answer_length(lang, text, value.span().start, &format!("{field}.text"));
        }
        let mut snippets = Vec::new();
        let mut complete = true;
        for (i, snippet) in raw.snippets.iter().enumerate() {
            match self.snippet(snippet, &format!("{field}.snippets[{i}]")) {
                Ok(Some(snippet)) => snippets.push(snippet),
                Ok(None) => {}
                Err(()) => complete = false,
            }
        }
        let example = Example {
            lang: lang?,
            seller: seller?,
            text: text?,
            snippets,
        };
        complete.then_some(example)
    }

    fn answer_length(&mut self, lang: Language, text: &str, at: usize, field: &str) {
        let (range, unit) = match lang {
            Language::En => (EN_ANSWER_WORDS, "words"),
            Language::Zh => (ZH_ANSWER_UNITS, "characters"),
        };
        let count = count_answer_units(lang, text);
        if !range.contains(&count) {
            let message = format!(
                "{lang} answer has {count} {unit}, expected {} to {}",
                range.start(),
                range.end()
            );
            self.file.report(at, field, message);
        }
    }

    /// Returns the snippet, `Ok(None)` when its audio is not generated yet,
    /// or `Err(())` after reporting a problem.
    fn snippet(&mut self, item: &S<RawSnippet>, field: &str) -> Result<Option<Snippet>, ()> {
        let at = item.span().start;
        let raw = item.get_ref();
        let audio = self
            .file
            .text(&raw.audio, at, &format!("{field}.audio"))
            .ok_or(())?;
        let generated = Path::new(&audio).starts_with(GENERATED_AUDIO_DIR);
        let measured = self.file.ctx.times.as_ref().map(|t| t.get(&audio));
        let times = match (&raw.start_ms, &raw.end_ms, measured) {
            (Some(start), Some(end), _) => (*start.get_ref(), *end.get_ref()),
            (Some(_), None, _) | (None, Some(_), _) => {
                self.file
                    .report(at, field, "set both start_ms and end_ms, or neither");
                return Err(());
            }
            (None, None, Some(Some(times))) => times,
            (None, None, None) if generated => return Ok(None),
            (None, None, _) => {
                let message = format!("no times for {audio:?}: set start_ms and end_ms, or run scripts/synth-snippets.sh");
                self.file.report(at, field, message);
                return Err(());
            }
        };
        self.snippet_times(&audio, times, at, field, generated)?;
        Ok(Some(Snippet {
            audio: audio.into(),
            start_ms: times.0,
            end_ms: times.1,
        }))
    }

    fn snippet_times(
        &mut self,
        audio: &str,
        times: (u64, u64),
        at: usize,
        field: &str,
        generated: bool,
    ) -> Result<(), ()> {
        let (start_ms, end_ms) = times;
        if end_ms <= start_ms {
            let message = format!("end_ms {end_ms} must be greater than start_ms {start_ms}");
            self.file.report(at, field, message);
            return Err(());
        }
        let path = self.file.ctx.corpus_dir.join(audio);
        if !path.is_file() {
            if generated && self.file.ctx.times.is_none() {
                return Ok(());
            }
            let message = format!(
                "audio file {} not found: run scripts/synth-snippets.sh",
                path.display()
            );
            self.file.report(at, &format!("{field}.audio"), message);
            return Err(());
        }
        match wav_duration_ms(&path) {
            Some(duration_ms) if end_ms > duration_ms => {
                let message =
                    format!("end_ms {end_ms} is past the end of {audio} ({duration_ms} ms)");
                self.file.report(at, &format!("{field}.end_ms"), message);
                Err(())
            }
            _ => Ok(()),
        }
    }

    fn key_phrases(
        &mut self,
        raw: &RawStrategy,
        at: usize,
        answers: &[(Language, String)],
    ) -> Option<Vec<KeyPhrase>> {
        let list = self
            .file
            .required(&raw.key_phrases, at, &self.field("key_phrases"))?;
        let mut out: Vec<KeyPhrase> = Vec::new();
        let mut complete = true;
        for (i, item) in list.get_ref().iter().enumerate() {
            let field = self.field(&format!("key_phrases[{i}]"));
            match self.key_phrase(item, &field, answers) {
                Some(phrase)
                    if out
                        .iter()
                        .any(|p| p.lang == phrase.lang && p.text == phrase.text) =>
                {
                    let message = format!("phrase {:?} is listed twice", phrase.text);
                    self.file.report(item.span().start, &field, message);
                    complete = false;
                }
                Some(phrase) => out.push(phrase),
                None => complete = false,
            }
        }
        for lang in Language::ALL {
            let approved = out
                .iter()
                .any(|p| p.lang == lang && p.status == PhraseStatus::Approved);
            if complete && !approved {
                let message = format!("needs at least one approved {lang} key phrase");
                self.file
                    .report(list.span().start, &self.field("key_phrases"), message);
                complete = false;
            }
        }
        complete.then_some(out)
    }

    fn key_phrase(
        &mut self,
        item: &S<RawPhrase>,
        field: &str,
        answers: &[(Language, String)],
    ) -> Option<KeyPhrase> {
        let at = item.span().start;
        let raw = item.get_ref();
        let lang = self.file.lang(&raw.lang, at, &format!("{field}.lang"));
        let text = self.file.text(&raw.text, at, &format!("{field}.text"));
        let weight = self.weight(raw, &format!("{field}.weight"));
        let status = self.status(raw, &format!("{field}.status"));
        let synonyms = self.strings(&raw.synonyms, &format!("{field}.synonyms"));
        let variants = self.strings(&raw.variants, &format!("{field}.variants"));
        let phrase = KeyPhrase {
            lang: lang?,
            text: text?,
            weight: weight?,
            synonyms: synonyms?,
            variants: variants?,
            status: status?,
        };
        if phrase.status != PhraseStatus::Rejected && !occurs_in_answers(self, &phrase, answers) {
            let message = format!(
                "{:?} (and its synonyms and variants) does not occur in the {} example answer",
                phrase.text, phrase.lang
            );
            self.file.report(at, &format!("{field}.text"), message);
            return None;
        }
        Some(phrase)
    }

    fn weight(&mut self, raw: &RawPhrase, field: &str) -> Option<f32> {
        let Some(value) = &raw.weight else {
            return Some(1.0);
        };
        let weight = *value.get_ref();
        if !(weight.is_finite() && weight > 0.0) {
            self.file.report(
                value.span().start,
                field,
                format!("weight {weight} must be greater than 0"),
            );
            return None;
        }
        Some(weight as f32)
    }

    fn status(&mut self, raw: &RawPhrase, field: &str) -> Option<PhraseStatus> {
        let Some(value) = &raw.status else {
            return Some(PhraseStatus::Approved);
        };
        match value.get_ref().as_str() {
            "approved" => Some(PhraseStatus::Approved),
            "proposed" => Some(PhraseStatus::Proposed),
            "rejected" => Some(PhraseStatus::Rejected),
            other => {
                let message =
                    format!("unknown status {other:?}: expected approved, proposed or rejected");
                self.file.report(value.span().start, field, message);
                None
            }
        }
    }

    fn strings(&mut self, values: &[S<String>], field: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for (i, value) in values.iter().enumerate() {
            if value.get_ref().trim().is_empty() {
                self.file.report(
                    value.span().start,
                    &format!("{field}[{i}]"),
                    "must not be empty",
                );
                return None;
            }
            out.push(value.get_ref().trim().to_string());
        }
        Some(out)
    }
}

fn occurs_in_answers(
    check: &StrategyCheck<'_, '_>,
    phrase: &KeyPhrase,
    answers: &[(Language, String)],
) -> bool {
    let analyzers = &check.file.ctx.analyzers;
    let forms = std::iter::once(&phrase.text)
        .chain(&phrase.synonyms)
        .chain(&phrase.variants);
    let answers: Vec<&str> = answers
        .iter()
        .filter(|(lang, _)| *lang == phrase.lang)
        .map(|(_, text)| text.as_str())
        .collect();
    forms.into_iter().any(|form| {
        answers
            .iter()
            .any(|answer| phrase_occurs(analyzers, phrase.lang, form, answer))
    })
}

/// Returns the language and text of every example that has both, so that key
/// phrases are checked even when another field of an example is broken.
fn raw_answers(raw: &RawStrategy) -> Vec<(Language, String)> {
    let examples = raw
        .examples
        .as_ref()
        .map(|list| list.get_ref().as_slice())
        .unwrap_or_default();
    examples
        .iter()
        .filter_map(|e| {
            let example = e.get_ref();
            let lang = example.lang.as_ref()?.get_ref().parse::<Language>().ok()?;
            Some((lang, example.text.as_ref()?.get_ref().clone()))
        })
        .collect()
}
