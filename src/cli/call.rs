//! `callcoach call analyze`: turns, scenario answers, response latency and
//! a summary of an authorized real call, optionally stored for a rep.

use std::path::PathBuf;

use anyhow::Context;

use super::drill::{block_on, load_corpus, load_engine, parse_user, Format};
use crate::audio::{self, DecodeLimits};
use crate::call::{self, Authorization, CallAnalysis, CallOptions, Speaker};
use crate::knowledge::Classifier;
use crate::transcribe::{LanguageChoice, Settings};

/// Subcommands of `callcoach call`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Analyses a recorded call whose customer consented to analysis.
    Analyze(AnalyzeArgs),
}

/// Arguments of `callcoach call analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Recording of the call: stereo with one speaker per channel, or mono.
    pub file: PathBuf,
    /// Channel of the rep in a stereo recording: 0 (left) or 1 (right).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub rep_channel: u8,
    /// Confirms that the customer's consent to recording and analysis is on record.
    #[arg(long)]
    pub consent: bool,
    /// Name of the person who recorded the consent [default: the rep]
    #[arg(long)]
    pub consent_by: Option<String>,
    /// Consent method: verbal_on_recording, written or electronic.
    #[arg(long, default_value = "verbal_on_recording")]
    pub consent_method: String,
    /// Language of the call: auto, en or zh.
    #[arg(long, default_value = "auto")]
    pub language: LanguageChoice,
    /// whisper.cpp ggml model file [default: as `drill score`]
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// CPU threads for inference [default: all cores]
    #[arg(long)]
    pub threads: Option<usize>,
    /// The rep's user id; stores the call and its scores in --data.
    #[arg(long)]
    pub rep: Option<String>,
    /// Data directory.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Scenario corpus directory.
    #[arg(long, default_value = "corpus")]
    pub corpus: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs one `call` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    let Command::Analyze(args) = command;
    let authorization = Authorization {
        consent_recorded: args.consent,
        recorded_by: args.consent_by.clone().unwrap_or_else(|| "the rep".into()),
        method: args
            .consent_method
            .parse()
            .context("invalid --consent-method")?,
    };
    if !authorization.consent_recorded {
        return Err(call::Error::ConsentMissing.into());
    }
    let rep = args
        .rep
        .as_deref()
        .map(|r| parse_user(r, "--rep"))
        .transpose()?;
    let corpus = load_corpus(&args.corpus)?;
    let recording = audio::decode_file(&args.file, &DecodeLimits::default())
        .with_context(|| format!("cannot read call recording {}", args.file.display()))?;
    let engine = load_engine(args.model.as_deref(), args.language)?;
    let classifier = Classifier::new(&corpus);
    let options = CallOptions {
        rep_channel: usize::from(args.rep_channel),
        language: args.language,
        threads: args.threads.unwrap_or_else(|| Settings::default().threads),
    };

    let analysis = call::analyze(
        &engine,
        &corpus,
        &classifier,
        &recording,
        &authorization,
        &options,
    )
    .with_context(|| format!("analysis of {} failed", args.file.display()))?;

    let stored = match rep {
        Some(rep) => {
            let bytes = std::fs::read(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?;
            let extension = args
                .file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_string);
            let analysis = analysis.clone();
            Some(block_on(&args.data, |store| async move {
                let recording = (bytes, extension.as_deref());
                Ok(
                    call::store_call(&store, &corpus, &rep, &analysis, &authorization, recording)
                        .await?,
                )
            })?)
        }
        None => None,
    };
    match args.format {
        Format::Json => {
            let mut value = serde_json::to_value(&analysis)?;
            if let (Some(call), Some(object)) = (&stored, value.as_object_mut()) {
                object.insert("call_id".into(), call.id.to_string().into());
            }
            outln!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text => {
            print_analysis(&analysis);
            if let Some(call) = stored {
                outln!("stored as call {}", call.id);
            }
        }
    }
    Ok(())
}

fn print_analysis(analysis: &CallAnalysis) {
    let estimated = if analysis.turns_estimated {
        " (turns estimated from pauses)"
    } else {
        ""
    };
    outln!(
        "Call of {} ms, {} channel(s){estimated}",
        analysis.duration_ms,
        analysis.channels
    );
    for turn in &analysis.turns {
        let who = match turn.speaker {
            Speaker::Customer => "customer",
            Speaker::Rep => "rep",
        };
        outln!(
            "  #{} {who} [{} - {} ms] {}",
            turn.index,
            turn.start_ms,
            turn.end_ms,
            turn.text
        );
    }
    for exchange in &analysis.exchanges {
        let scenario = exchange
            .scenario
            .as_ref()
            .map_or("no scenario", |s| s.scenario_id.as_str());
        let mut line = format!("Turn {}: {scenario}", exchange.customer_turn);
        if let Some(response) = &exchange.response {
            line.push_str(&format!(", response after {} ms", response.latency_ms));
            if let Some(flaw) = response.flaw {
                line.push_str(&format!(" ({flaw:?})"));
            }
        }
        if let Some(score) = &exchange.score {
            line.push_str(&format!(
                ", overall {:.1}, best {}",
                score.overall.score, score.coverage.best_strategy_id
            ));
        }
        outln!("{line}");
    }
    let summary = &analysis.summary;
    outln!(
        "Talk ratio {:.2}, {} question(s) asked",
        summary.talk_ratio,
        summary.questions_asked
    );
    if let Some(longest) = &summary.longest_monologue {
        outln!(
            "Longest monologue: turn {}, {} ms",
            longest.turn,
            longest.duration_ms
        );
    }
    for moment in &summary.key_moments {
        outln!(
            "  {} ms: \"{}\" ({}/{})",
            moment.start_ms,
            moment.phrase,
            moment.scenario_id,
            moment.strategy_id
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::store::calls::ConsentMethod;

    #[test]
    fn consent_method_parses_names() {
        assert!("written".parse::<ConsentMethod>().is_ok());
        assert!("nod".parse::<ConsentMethod>().is_err());
    }
}
