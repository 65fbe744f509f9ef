//! The whisper-rs binding: model loading and one decoding run per request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tracing::{debug, info, instrument};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::chunk::{plan_chunks, words_before_loop, Chunk};
use super::words::{assemble_words, RawToken};
use super::{Error, LanguageChoice, Result, Segment, Settings, Transcript};
use crate::audio::vad::{detect_speech, VadConfig};
use crate::audio::SAMPLE_RATE_HZ;
use crate::language::Language;

/// Prompt that steers the multilingual models to Simplified characters; the
/// base model writes Traditional characters without it.
const SIMPLIFIED_PROMPT: &str = "以下是普通话的句子。";
/// Samples per millisecond at the engine's input rate.
const SAMPLES_PER_MS: u64 = SAMPLE_RATE_HZ as u64 / 1000;

/// One loaded Whisper model, shared by all transcriptions.
#[derive(Clone)]
pub struct Engine {
    context: Arc<WhisperContext>,
    path: PathBuf,
    multilingual: bool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.path)
            .field("multilingual", &self.multilingual)
            .finish()
    }
}

impl Engine {
    /// Loads a whisper.cpp ggml model file.
    #[instrument(skip_all, fields(model = %model_path.display()))]
    pub fn load(model_path: &Path) -> Result<Engine> {
        let load_error = |reason: String| Error::ModelLoad {
            path: model_path.to_path_buf(),
            reason,
        };
        if !model_path.is_file() {
            return Err(load_error("file not found".into()));
        }

        route_whisper_logs();
        let started = Instant::now();
        let context =
            WhisperContext::new_with_params(model_path, WhisperContextParameters::default())
                .map_err(|e| load_error(e.to_string()))?;
        let multilingual = context.is_multilingual();
        info!(
            multilingual,
            duration_ms = started.elapsed().as_millis() as u64,
            "model loaded"
        );

        Ok(Engine {
            context: Arc::new(context),
            path: model_path.to_path_buf(),
            multilingual,
        })
    }

    /// Returns whether the model covers languages other than English.
    pub fn is_multilingual(&self) -> bool {
        self.multilingual
    }

    /// Returns the model file path.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// Transcribes 16 kHz mono samples.
    ///
    /// Audio in which voice activity detection finds no speech returns a
    /// [`Transcript`] with `no_speech` set, without running the model, so
    /// silence and noise never turn into invented text.
    #[instrument(skip_all, fields(duration_ms = samples_16k.len() as u64 / SAMPLES_PER_MS, threads = settings.threads))]
    pub fn transcribe(&self, samples_16k: &[f32], settings: &Settings) -> Result<Transcript> {
        settings.validate()?;
        let fixed = self.resolve_language(settings.language)?;
        let duration_ms = samples_16k.len() as u64 / SAMPLES_PER_MS;
        let regions = detect_speech(samples_16k, &VadConfig::default());
        if regions.is_empty() {
            debug!("no speech detected");
            return Ok(Transcript::silent(
                fixed.map_or("en", Language::code),
                duration_ms,
            ));
        }

        let started = Instant::now();
        let mut state = self
            .context
            .create_state()
            .map_err(|e| Error::Inference(e.to_string()))?;
        let mut language = fixed.map(|l| l.code().to_string());
        let mut segments = Vec::new();
        for chunk in plan_chunks(&regions, duration_ms) {
            let decoded = self.decode_chunk(
                &mut state,
                samples_16k,
                chunk,
                language.as_deref(),
                settings,
            )?;
            language.get_or_insert(decoded.language);
            append_without_repeats(&mut segments, decoded.segments);
        }

        let language = language.unwrap_or_else(|| "en".into());
        info!(segments = segments.len(), elapsed_ms = started.elapsed().as_millis() as u64, language = %language, "transcribed");
        Ok(finish(language, duration_ms, segments))
    }

    fn resolve_language(&self, choice: LanguageChoice) -> Result<Option<Language>> {
        match (choice, self.multilingual) {
            (LanguageChoice::Fixed(Language::En), _) | (LanguageChoice::Auto, false) => {
                Ok(Some(Language::En))
            }
            (LanguageChoice::Fixed(language), false) => Err(Error::LanguageNotSupported {
                model: self.path.clone(),
                language: language.code().into(),
            }),
            (LanguageChoice::Fixed(language), true) => Ok(Some(language)),
            (LanguageChoice::Auto, true) => Ok(None),
        }
    }

    fn decode_chunk(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        chunk: Chunk,
        language: Option<&str>,
        settings: &Settings,
    ) -> Result<Decoded> {
        let start = (chunk.start_ms * SAMPLES_PER_MS) as usize;
        let end = ((chunk.end_ms * SAMPLES_PER_MS) as usize).min(samples.len());
        let prompt = settings
            .initial_prompt
            .clone()
            .or_else(|| (language == Some("zh")).then(|| SIMPLIFIED_PROMPT.to_string()));
        let mut params = full_params(settings, language, prompt.as_deref());
        if settings.fit_audio_context {
            params.set_audio_ctx(audio_context_for(chunk.end_ms - chunk.start_ms));
        }

        state
            .full(params, &samples[start..end])
            .map_err(|e| Error::Inference(e.to_string()))?;

        let detected = match language {
            Some(code) => code.to_string(),
            None => whisper_rs::get_lang_str(state.full_lang_id_from_state())
                .unwrap_or("en")
                .to_string(),
        };
        let mut segments = self.collect_segments(
            state,
            chunk.start_ms,
            settings.no_speech_threshold,
            &detected,
        );
        clamp_to_chunk(&mut segments, chunk);
        Ok(Decoded {
            language: detected,
            segments,
        })
    }

    fn collect_segments(
        &self,
        state: &WhisperState,
        offset_ms: u64,
        threshold: f32,
        language: &str,
    ) -> Vec<Segment> {
        let eot = self.context.token_eot();
        let mut segments = Vec::new();
        for segment in state.as_iter() {
            if segment.no_speech_probability() > threshold {
                debug!(
                    probability = segment.no_speech_probability(),
                    "segment dropped as no speech"
                );
                continue;
            }
            let tokens: Vec<RawToken> = (0..segment.n_tokens())
                .filter_map(|i| segment.get_token(i))
                .filter(|t| t.token_id() < eot)
                .filter_map(|t| {
                    let data = t.token_data();
                    Some(RawToken {
                        bytes: t.to_bytes().ok()?.to_vec(),
                        start_ms: offset_ms + centiseconds_to_ms(data.t0),
                        end_ms: offset_ms + centiseconds_to_ms(data.t1),
                        probability: data.p,
                    })
                })
                .collect();
            let bytes: Vec<u8> = tokens
                .iter()
                .flat_map(|t| t.bytes.iter().copied())
                .collect();
            let mut text = String::from_utf8_lossy(&bytes).trim().to_string();
            let mut words = assemble_words(&tokens);
            if language == "zh" {
                text = to_simplified(&text);
                words
                    .iter_mut()
                    .for_each(|w| w.text = to_simplified(&w.text));
            }
            cut_loop(&mut text, &mut words);
            if text.is_empty() {
                continue;
            }
            segments.push(Segment {
                start_ms: offset_ms + centiseconds_to_ms(segment.start_timestamp()),
                end_ms: offset_ms + centiseconds_to_ms(segment.end_timestamp()),
                text,
                words,
            });
        }
        segments
    }
}

/// Sends whisper.cpp and GGML log lines to `tracing` instead of stderr.
fn route_whisper_logs() {
    static HOOKS: std::sync::Once = std::sync::Once::new();
    HOOKS.call_once(whisper_rs::install_logging_hooks);
}

struct Decoded {
    language: String,
    segments: Vec<Segment>,
}

fn full_params<'a>(
    settings: &Settings,
    language: Option<&'a str>,
    prompt: Option<&str>,
) -> FullParams<'a, 'a> {
    let strategy = if settings.beam_size > 1 {
        SamplingStrategy::BeamSearch {
            beam_size: settings.beam_size as i32,
            patience: -1.0,
        }
    } else {
        SamplingStrategy::Greedy { best_of: 1 }
    };
    let mut params = FullParams::new(strategy);
    params.set_n_threads(settings.threads as i32);
    params.set_language(Some(language.unwrap_or("auto")));
    params.set_token_timestamps(true);
    params.set_no_context(true);
    params.set_suppress_blank(true);
    params.set_no_speech_thold(settings.no_speech_threshold);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    if let Some(prompt) = prompt {
        params.set_initial_prompt(prompt);
    }
    params
}

/// Keeps timings inside the chunk, because Whisper's last timestamp may
/// point past the end of the audio it was given.
fn clamp_to_chunk(segments: &mut [Segment], chunk: Chunk) {
    for segment in segments {
        segment.end_ms = segment.end_ms.min(chunk.end_ms);
        segment.start_ms = segment.start_ms.min(segment.end_ms);
        for word in &mut segment.words {
            word.end_ms = word.end_ms.min(chunk.end_ms);
            word.start_ms = word.start_ms.min(word.end_ms);
        }
    }
}

/// Encoder positions of Whisper's full 30 s window.
const FULL_AUDIO_CONTEXT: u64 = 1500;
/// Smallest encoder window used for a short chunk, about 7.7 s; much smaller
/// windows make tiny.en drop words.
const MIN_AUDIO_CONTEXT: u64 = 384;

/// Returns the encoder window that covers `chunk_ms` plus one second.
fn audio_context_for(chunk_ms: u64) -> i32 {
    let needed = (chunk_ms + 1_000) * FULL_AUDIO_CONTEXT / 30_000;
    needed.clamp(MIN_AUDIO_CONTEXT, FULL_AUDIO_CONTEXT) as i32
}

fn centiseconds_to_ms(value: i64) -> u64 {
    value.max(0) as u64 * 10
}

fn to_simplified(text: &str) -> String {
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
}

/// Truncates a segment that fell into a decoding loop.
fn cut_loop(text: &mut String, words: &mut Vec<super::Word>) {
    let tokens: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    let keep = words_before_loop(&tokens);
    if keep < words.len() {
        debug!(kept = keep, total = words.len(), "repetition loop removed");
        words.truncate(keep);
        let separator = if words
            .iter()
            .any(|w| w.text.chars().any(crate::language::is_han))
        {
            ""
        } else {
            " "
        };
        *text = words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(separator);
    }
}

/// Appends segments, dropping one that repeats the previous segment's text.
fn append_without_repeats(all: &mut Vec<Segment>, new: Vec<Segment>) {
    for segment in new {
        if all.last().is_some_and(|last| last.text == segment.text) {
            debug!("repeated segment dropped");
            continue;
        }
        all.push(segment);
    }
}

fn finish(language: String, duration_ms: u64, segments: Vec<Segment>) -> Transcript {
    if segments.is_empty() {
        return Transcript::silent(&language, duration_ms);
    }
    let separator = if language == "zh" { "" } else { " " };
    let text = segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(separator);
    Transcript {
        language,
        duration_ms,
        no_speech: false,
        text,
        segments,
    }
}
