//! `callcoach kb ingest`: a progress bar over the calls, one summary per
//! call, and a non-zero exit when any call failed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use crate::knowledge::ingest::turns::Speaker;
use crate::knowledge::{load_classifier, CallReport, Corpus, Ingest, IngestOptions};
use crate::transcribe::{self, Engine};

/// Ingests `files` into the corpus and index named by `options`.
pub(super) fn run(
    options: IngestOptions,
    files: &[PathBuf],
    model: Option<&Path>,
) -> anyhow::Result<()> {
    let model = transcribe::locate_model(model)?;
    let engine = Engine::load(&model)?;
    let corpus = Corpus::load(&options.corpus_dir)
        .with_context(|| format!("loading corpus {}", options.corpus_dir.display()))?;
    let (classifier, combined) = load_classifier(&corpus, None);
    if !combined {
        eprintln!(
            "note: classifying with BM25 alone, because the embedding model is not installed \
             (`callcoach model install minilm`)"
        );
    }
    let mut ingest = Ingest::new(engine, classifier, options).context("preparing ingestion")?;

    let bar = ProgressBar::new(files.len() as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:32} [{bar:30}] {pos}/{len} calls {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let results = ingest.ingest_all(files, |file, result| {
        let line = match result {
            Ok(report) => summary(report),
            Err(err) => format!("{}: skipped: {err}", file.display()),
        };
        // A hidden bar (stderr is not a terminal) drops its println output.
        if bar.is_hidden() {
            outln!("{line}");
        } else {
            bar.println(line);
        }
        bar.inc(1);
    });
    bar.finish_and_clear();

    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    let added: usize = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|r| r.added.len())
        .sum();
    outln!(
        "{} of {} calls ingested, {added} example(s) added",
        files.len() - failed,
        files.len()
    );
    if failed > 0 {
        bail!("{failed} call(s) could not be ingested; see the lines above");
    }
    Ok(())
}

fn summary(report: &CallReport) -> String {
    let mut lines = vec![format!("{}:", report.file.display())];
    if report.turns_estimated {
        lines.push("  mono recording: turns and speakers are estimated from pauses".into());
    }
    for customer in &report.customer_turns {
        let label = match customer.turn.speaker {
            Speaker::Unknown => "turn",
            _ => "customer",
        };
        let scenario = customer.scenario.as_deref().unwrap_or("no scenario");
        lines.push(format!(
            "  {label} {}-{} ms -> {scenario} ({:.3})",
            customer.turn.start_ms, customer.turn.end_ms, customer.score
        ));
    }
    for added in &report.added {
        let snippet = added.example.snippets.first();
        let (start, end) = snippet.map_or((0, 0), |s| (s.start_ms, s.end_ms));
        lines.push(format!(
            "  added {} / {} answer {start}-{end} ms",
            added.scenario, added.strategy
        ));
    }
    for skipped in &report.skipped {
        lines.push(format!(
            "  not stored: {} answer at {} ms: {}",
            skipped.scenario, skipped.start_ms, skipped.reason
        ));
    }
    for (scenario, proposal) in &report.proposals {
        lines.push(format!(
            "  proposed phrase {scenario} / {} [{}] {:.2} {}",
            proposal.strategy, proposal.phrase.lang, proposal.phrase.weight, proposal.phrase.text
        ));
    }
    lines.join("\n")
}
