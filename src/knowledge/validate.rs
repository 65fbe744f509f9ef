//! Validation of one scenario file: every rule of `corpus/FORMAT.md`, each
//! problem reported with file, line and field.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::analyzer::{fold_simplified, Analyzers};
use super::raw::{LineIndex, RawScenario, S};
use super::snippet::SnippetTimes;
use super::strategy_check::StrategyCheck;
use super::{LatencyBand, Scenario, Trigger};
use crate::language::Language;
use crate::skill::Dimension;

/// Number of response strategies each scenario has.
pub(crate) const STRATEGY_COUNT: usize = 3;

/// One rule that a scenario file breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Scenario file.
    pub file: PathBuf,
    /// 1-based line of the offending value (of its table when it is missing).
    pub line: usize,
    /// Dotted path of the field, such as `strategies[1].key_phrases[0].weight`.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        write!(f, "{file}:{}: {}: {}", self.line, self.field, self.message)
    }
}

/// Outcome of checking a corpus directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// Corpus directory.
    pub dir: PathBuf,
    /// Number of scenario files read.
    pub files_checked: usize,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    /// Returns whether the corpus has no problems.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a file check needs beyond the file itself.
pub(crate) struct Context {
    pub(crate) corpus_dir: PathBuf,
    pub(crate) times: Option<SnippetTimes>,
    pub(crate) analyzers: Analyzers,
}

/// Checks one scenario file; returns the scenario when it has no problems.
pub(crate) fn check_file(
    path: &Path,
    text: &str,
    ctx: &Context,
) -> (Option<Scenario>, Vec<Problem>) {
    let mut check = FileCheck {
        path,
        lines: LineIndex::new(text),
        ctx,
        problems: Vec::new(),
    };
    let scenario = match toml::from_str::<RawScenario>(text) {
        Ok(raw) => check.scenario(&raw),
        Err(err) => {
            let offset = err.span().map_or(0, |span| span.start);
            check.report(offset, "toml", err.message().trim().to_string());
            None
        }
    };
    let scenario = if check.problems.is_empty() {
        scenario
    } else {
        None
    };
    (scenario, check.problems)
}

/// Problems found so far in one file.
pub(crate) struct FileCheck<'a> {
    path: &'a Path,
    lines: LineIndex,
    pub(crate) ctx: &'a Context,
    problems: Vec<Problem>,
}

impl FileCheck<'_> {
    /// Records a problem at byte `offset`.
    pub(crate) fn report(&mut self, offset: usize, field: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.path.to_path_buf(),
            line: self.lines.line(offset),
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// Returns a required value, reporting it at `parent` when missing.
    pub(crate) fn required<'v, T>(
        &mut self,
        value: &'v Option<S<T>>,
        parent: usize,
        field: &str,
    ) -> Option<&'v S<T>> {
        if value.is_none() {
            self.report(parent, field, "missing required field");
        }
        value.as_ref()
    }

    /// Returns a required, non-blank string.
    pub(crate) fn text(
        &mut self,
        value: &Option<S<String>>,
        parent: usize,
        field: &str,
    ) -> Option<String> {
        let value = self.required(value, parent, field)?;
        if value.get_ref().trim().is_empty() {
            self.report(value.span().start, field, "must not be empty");
            return None;
        }
        Some(value.get_ref().trim().to_string())
    }

    /// Returns a required language code.
    pub(crate) fn lang(
        &mut self,
        value: &Option<S<String>>,
        parent: usize,
        field: &str,
    ) -> Option<Language> {
        let value = self.required(value, parent, field)?;
        match value.get_ref().parse::<Language>() {
            Ok(lang) => Some(lang),
            Err(err) => {
                self.report(value.span().start, field, err.to_string());
                None
            }
        }
    }

    /// Returns a required snake_case id.
    pub(crate) fn id(
        &mut self,
        value: &Option<S<String>>,
        parent: usize,
        field: &str,
    ) -> Option<String> {
        let value = self.required(value, parent, field)?;
        if !is_snake_case(value.get_ref()) {
            let message = format!(
                "{:?} is not snake_case (a-z, 0-9 and single underscores, starting with a letter)",
                value.get_ref()
            );
            self.report(value.span().start, field, message);
            return None;
        }
        Some(value.get_ref().clone())
    }

    fn scenario(&mut self, raw: &RawScenario) -> Option<Scenario> {
        let id = self.scenario_id(raw);
        let title_en = self.text(&raw.title_en, 0, "title_en");
        let title_zh = self.text(&raw.title_zh, 0, "title_zh");
        let dimensions = self.dimensions(raw);
        let triggers = self.triggers(raw);
        let latency = self.latency(raw);
        let strategies = self.strategies(raw);
        Some(Scenario {
            id: id?,
            title_en: title_en?,
            title_zh: title_zh?,
            dimensions: dimensions?,
            triggers: triggers?,
            latency: latency?,
            strategies: strategies?,
        })
    }

    fn scenario_id(&mut self, raw: &RawScenario) -> Option<String> {
        let id = self.id(&raw.id, 0, "id")?;
        let stem = self
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if id != stem {
            let offset = raw.id.as_ref().map_or(0, |v| v.span().start);
            let message =
                format!("id {id:?} differs from the file stem {stem:?}: rename the file or the id");
            self.report(offset, "id", message);
            return None;
        }
        Some(id)
    }

    fn dimensions(&mut self, raw: &RawScenario) -> Option<Vec<Dimension>> {
        let list = self.required(&raw.dimensions, 0, "dimensions")?;
        if list.get_ref().is_empty() {
            self.report(
                list.span().start,
                "dimensions",
                "must list at least one dimension",
            );
        }
        let mut out = Vec::new();
        for (i, value) in list.get_ref().iter().enumerate() {
            let field = format!("dimensions[{i}]");
            match value.get_ref().parse::<Dimension>() {
                Ok(d) if out.contains(&d) => {
                    self.report(value.span().start, &field, format!("{d} is listed twice"))
                }
                Ok(d) => out.push(d),
                Err(err) => self.report(value.span().start, &field, err.to_string()),
            }
        }
        (out.len() == list.get_ref().len() && !out.is_empty()).then_some(out)
    }

    fn triggers(&mut self, raw: &RawScenario) -> Option<Vec<Trigger>> {
        let list = self.required(&raw.triggers, 0, "triggers")?;
        let mut out = Vec::new();
        let mut complete = true;
        for (i, item) in list.get_ref().iter().enumerate() {
            let at = item.span().start;
            let lang = self.lang(&item.get_ref().lang, at, &format!("triggers[{i}].lang"));
            let text = self.text(&item.get_ref().text, at, &format!("triggers[{i}].text"));
            match (lang, text) {
                (Some(lang), Some(text)) => out.push(Trigger { lang, text }),
                _ => complete = false,
            }
        }
        for lang in Language::ALL {
            if complete && !out.iter().any(|t| t.lang == lang) {
                self.report(
                    list.span().start,
                    "triggers",
                    format!("needs at least one {lang} trigger line"),
                );
                complete = false;
            }
        }
        complete.then_some(out)
    }

    fn latency(&mut self, raw: &RawScenario) -> Option<LatencyBand> {
        let table = self.required(&raw.latency, 0, "latency")?;
        let at = table.span().start;
        let band = table.get_ref();
        let min_ms = self
            .required(&band.min_ms, at, "latency.min_ms")
            .map(|v| *v.get_ref());
        let max_ms = self
            .required(&band.max_ms, at, "latency.max_ms")
            .map(|v| *v.get_ref());
        let top = self
            .required(&band.top_seller_ms, at, "latency.top_seller_ms")
            .map(|v| *v.get_ref());
        let band = LatencyBand {
            min_ms: min_ms?,
            max_ms: max_ms?,
            top_seller_ms: top?,
        };
        if !(band.min_ms <= band.top_seller_ms
            && band.top_seller_ms <= band.max_ms
            && band.min_ms < band.max_ms)
        {
            let message = format!(
                "expected min_ms < max_ms with top_seller_ms between them, got {} / {} / {}",
                band.min_ms, band.top_seller_ms, band.max_ms
            );
            self.report(at, "latency", message);
            return None;
        }
        Some(band)
    }

    fn strategies(&mut self, raw: &RawScenario) -> Option<Vec<super::Strategy>> {
        let list = self.required(&raw.strategies, 0, "strategies")?;
        if list.get_ref().len() != STRATEGY_COUNT {
            let message = format!(
                "expected {STRATEGY_COUNT} strategies, found {}",
                list.get_ref().len()
            );
            self.report(list.span().start, "strategies", message);
        }
        let mut out = Vec::new();
        for (i, item) in list.get_ref().iter().enumerate() {
            let strategy = StrategyCheck::new(self, i).run(item);
            if let Some(strategy) = strategy {
                if out.iter().any(|s: &super::Strategy| s.id == strategy.id) {
                    let message = format!("strategy id {:?} is used twice", strategy.id);
                    self.report(item.span().start, &format!("strategies[{i}].id"), message);
                }
                out.push(strategy);
            }
        }
        (out.len() == list.get_ref().len()).then_some(out)
    }
}

/// Returns whether `id` is lowercase snake_case starting with a letter.
pub(crate) fn is_snake_case(id: &str) -> bool {
    let starts_with_letter = id.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    starts_with_letter && allowed && !id.ends_with('_') && !id.contains("__")
}

/// Returns whether `phrase` occurs in `answer` after analysis: as a run of
/// stems in English, as a substring of the Simplified text in Mandarin.
pub(crate) fn phrase_occurs(
    analyzers: &Analyzers,
    lang: Language,
    phrase: &str,
    answer: &str,
) -> bool {
    match lang {
        Language::En => {
            let needle = analyzers.terms(lang, phrase);
            let hay = analyzers.terms(lang, answer);
            !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_slice())
        }
        Language::Zh => {
            let squash = |s: &str| {
                fold_simplified(s)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
            };
            let needle = squash(phrase).to_lowercase();
            !needle.is_empty() && squash(answer).to_lowercase().contains(&needle)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_accepts_and_rejects() {
        assert!(is_snake_case("price_too_high"));
        assert!(is_snake_case("q3_budget"));
        assert!(!is_snake_case("PriceTooHigh"));
        assert!(!is_snake_case("price__high"));
        assert!(!is_snake_case("3_vendors"));
        assert!(!is_snake_case("price-high"));
    }

    #[test]
    fn phrase_occurs_uses_stems() {
        let analyzers = Analyzers::new();

        assert!(phrase_occurs(
            &analyzers,
            Language::En,
            "compare vendors",
            "we are comparing the vendors"
        ));
        assert!(!phrase_occurs(
            &analyzers,
            Language::En,
            "total cost",
            "the cost in total"
        ));
    }

    #[test]
    fn phrase_occurs_folds_traditional() {
        let analyzers = Analyzers::new();

        assert!(phrase_occurs(
            &analyzers,
            Language::Zh,
            "總成本",
            "我们算一下三年的总成本"
        ));
    }
}
