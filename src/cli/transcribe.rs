//! `callcoach transcribe`: one recording to text or JSON on stdout.

use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;

use crate::audio::{self, Audio, DecodeLimits};
use crate::transcribe::{self, Engine, LanguageChoice, Settings, Transcript};

/// Arguments of `callcoach transcribe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recording to transcribe (WAV, FLAC, MP3, Ogg Vorbis, M4A/AAC).
    pub file: PathBuf,
    /// whisper.cpp ggml model file [default: $CALLCOACH_MODEL, then models/ggml-tiny.en.bin]
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Language of the speech: auto, en or zh.
    #[arg(long, default_value = "auto")]
    pub language: LanguageChoice,
    /// CPU threads for inference [default: all cores]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Beam width; 1 decodes greedily.
    #[arg(long, default_value_t = 1)]
    pub beam_size: usize,
    /// Text that primes the decoder, e.g. product names.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Channel to transcribe: `mono` (mixdown of all channels) or an index from 0.
    #[arg(long, default_value = "mono")]
    pub channel: ChannelChoice,
    /// Longest recording accepted, in seconds.
    #[arg(long, default_value_t = 7200)]
    pub max_duration_s: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format of a transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per segment with its time span.
    Text,
    /// The transcript as one JSON object.
    Json,
}

/// Which channel of the recording to transcribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelChoice {
    /// Mixdown of every channel.
    Mono,
    /// One channel by index.
    Index(usize),
}

impl std::str::FromStr for ChannelChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "mono" {
            return Ok(ChannelChoice::Mono);
        }
        s.parse().map(ChannelChoice::Index).map_err(|_| {
            format!("invalid channel {s:?}: expected `mono` or a channel index such as 0 or 1")
        })
    }
}

/// Runs the subcommand.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let limits = DecodeLimits {
        max_duration_ms: args.max_duration_s.saturating_mul(1000),
        ..DecodeLimits::default()
    };
    let recording = audio::decode_file(&args.file, &limits)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let samples = select_channel(&recording, args.channel)?;
    let model = transcribe::locate_model(args.model.as_deref())?;
    let engine = Engine::load(&model)?;
    let mut settings = Settings {
        language: args.language,
        beam_size: args.beam_size,
        initial_prompt: args.prompt,
        ..Settings::default()
    };
    if let Some(threads) = args.threads {
        settings.threads = threads;
    }

    let transcript = engine
        .transcribe(&samples, &settings)
        .with_context(|| format!("transcription of {} failed", args.file.display()))?;

    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&transcript)?),
        Format::Text => print_text(&transcript),
    }
    Ok(())
}

fn select_channel(recording: &Audio, choice: ChannelChoice) -> anyhow::Result<Vec<f32>> {
    match choice {
        ChannelChoice::Mono => Ok(recording.mono()),
        ChannelChoice::Index(index) => recording.channel(index).map(<[f32]>::to_vec).ok_or_else(|| {
            anyhow::anyhow!("channel {index} does not exist: the recording has {} channel(s), numbered from 0", recording.channel_count())
        }),
    }
}

fn print_text(transcript: &Transcript) {
    if transcript.no_speech {
        outln!("(no speech)");
        return;
    }
    for segment in &transcript.segments {
        outln!(
            "[{} --> {}] {}",
            clock(segment.start_ms),
            clock(segment.end_ms),
            segment.text
        );
    }
}

/// Formats milliseconds as `mm:ss.mmm`, or `h:mm:ss.mmm` past an hour.
fn clock(ms: u64) -> String {
    let (hours, minutes, seconds, millis) =
        (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}.{millis:03}")
    } else {
        format!("{minutes:02}:{seconds:02}.{millis:03}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_minutes_and_hours() {
        assert_eq!(clock(3_200), "00:03.200");
        assert_eq!(clock(3_723_004), "1:02:03.004");
    }

    #[test]
    fn channel_choice_rejects_words() {
        assert!("left".parse::<ChannelChoice>().is_err());
        assert_eq!("1".parse::<ChannelChoice>(), Ok(ChannelChoice::Index(1)));
    }
}
