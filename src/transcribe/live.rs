//! Transcription that runs while the speaker is still talking.
//!
//! [`LiveTranscriber`] takes audio as it arrives (for example from a browser
//! recording), cuts it at pauses and transcribes each finished chunk on a
//! worker thread. When the speaker stops, only the audio after the last
//! pause is left to decode, so the full transcript is ready shortly after
//! the answer ends instead of one whole-recording decode later.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use tracing::debug;

use super::{Engine, Error, LanguageChoice, Result, Segment, Settings, Transcript};
use crate::audio::vad::{detect_speech, VadConfig};
use crate::audio::SAMPLE_RATE_HZ;
use crate::language::Language;

/// Silence that ends a chunk, in milliseconds.
const MIN_PAUSE_MS: u64 = 450;
/// Uncommitted audio after which a chunk is cut at its longest pause, even
/// when that pause is shorter than [`MIN_PAUSE_MS`].
const LONG_CHUNK_MS: u64 = 8_000;
/// Uncommitted audio after which a chunk is cut even without a pause.
const FORCE_CUT_MS: u64 = 25_000;
/// Samples per millisecond at the engine's input rate.
const SAMPLES_PER_MS: usize = SAMPLE_RATE_HZ as usize / 1000;

struct ChunkJob {
    offset_ms: u64,
    samples: Vec<f32>,
}

/// Incremental transcriber of one audio stream at 16 kHz mono.
pub struct LiveTranscriber {
    buffer: Vec<f32>,
    committed: usize,
    sender: Option<Sender<ChunkJob>>,
    worker: Option<JoinHandle<Result<Vec<Transcript>>>>,
    vad: VadConfig,
}

impl LiveTranscriber {
    /// Starts the worker thread that decodes chunks with `engine`.
    pub fn start(engine: Engine, settings: Settings) -> Result<LiveTranscriber> {
        settings.validate()?;
        let (sender, receiver) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("live-transcriber".into())
            .spawn(move || decode_chunks(&engine, settings, &receiver))
            .map_err(|e| Error::Inference(format!("cannot start transcription thread: {e}")))?;
        Ok(LiveTranscriber {
            buffer: Vec::new(),
            committed: 0,
            sender: Some(sender),
            worker: Some(worker),
            vad: VadConfig::default(),
        })
    }

    /// Appends samples and hands every chunk that ended in a pause to the worker.
    pub fn push(&mut self, samples: &[f32]) {
        self.buffer.extend_from_slice(samples);
        while let Some(cut) = self.next_cut() {
            self.send(cut);
        }
    }

    /// Returns how many milliseconds of audio are not yet handed to the worker.
    pub fn pending_ms(&self) -> u64 {
        ((self.buffer.len() - self.committed) / SAMPLES_PER_MS) as u64
    }

    /// Decodes the rest of the audio and returns the whole transcript.
    pub fn finish(mut self) -> Result<Transcript> {
        if self.committed < self.buffer.len() {
            self.send(self.buffer.len());
        }
        drop(self.sender.take());
        let parts = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(parts)) => parts?,
            _ => return Err(Error::Inference("transcription thread panicked".into())),
        };
        Ok(merge(parts, (self.buffer.len() / SAMPLES_PER_MS) as u64))
    }

    /// Finds the sample index that ends the next chunk, if one is complete.
    fn next_cut(&self) -> Option<usize> {
        let tail = &self.buffer[self.committed..];
        let regions = detect_speech(tail, &self.vad);
        let tail_ms = (tail.len() / SAMPLES_PER_MS) as u64;
        let pause_end = regions
            .windows(2)
            .find(|w| w[1].start_ms.saturating_sub(w[0].end_ms) >= MIN_PAUSE_MS)
            .map(|w| w[0].end_ms + MIN_PAUSE_MS / 2);
        let trailing = regions
            .last()
            .filter(|r| tail_ms.saturating_sub(r.end_ms) >= MIN_PAUSE_MS)
            .map(|r| r.end_ms + MIN_PAUSE_MS / 2);
        let longest_gap = regions
            .windows(2)
            .max_by_key(|w| w[1].start_ms.saturating_sub(w[0].end_ms))
            .filter(|_| tail_ms >= LONG_CHUNK_MS)
            .map(|w| (w[0].end_ms + w[1].start_ms) / 2);
        let forced = (tail_ms >= FORCE_CUT_MS).then_some(tail_ms);
        let cut_ms = pause_end.or(trailing).or(longest_gap).or(forced);
        cut_ms.map(|ms| self.committed + (ms as usize * SAMPLES_PER_MS).min(tail.len()))
    }

    fn send(&mut self, end: usize) {
        let job = ChunkJob {
            offset_ms: (self.committed / SAMPLES_PER_MS) as u64,
            samples: self.buffer[self.committed..end].to_vec(),
        };
        debug!(
            offset_ms = job.offset_ms,
            samples = job.samples.len(),
            "chunk queued"
        );
        self.committed = end;
        if let Some(sender) = &self.sender {
            // A closed channel means the worker failed, and finish() reports its error.
            let _ = sender.send(job);
        }
    }
}

fn decode_chunks(
    engine: &Engine,
    mut settings: Settings,
    jobs: &Receiver<ChunkJob>,
) -> Result<Vec<Transcript>> {
    let mut parts = Vec::new();
    for job in jobs {
        let mut part = engine.transcribe(&job.samples, &settings)?;
        shift(&mut part, job.offset_ms);
        if settings.language == LanguageChoice::Auto && !part.no_speech {
            if let Ok(language) = part.language.parse::<Language>() {
                settings.language = LanguageChoice::Fixed(language);
            }
        }
        parts.push(part);
    }
    Ok(parts)
}

fn shift(part: &mut Transcript, offset_ms: u64) {
    for segment in &mut part.segments {
        segment.start_ms += offset_ms;
        segment.end_ms += offset_ms;
        for word in &mut segment.words {
            word.start_ms += offset_ms;
            word.end_ms += offset_ms;
        }
    }
}

fn merge(parts: Vec<Transcript>, duration_ms: u64) -> Transcript {
    let language = parts
        .iter()
        .find(|p| !p.no_speech)
        .or(parts.first())
        .map_or_else(|| "en".to_string(), |p| p.language.clone());
    let segments: Vec<Segment> = parts.into_iter().flat_map(|p| p.segments).collect();
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
