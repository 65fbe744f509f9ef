//! Transcription that runs while the speaker is still talking.
//!
//! [`LiveTranscriber`] takes audio as it arrives (for example from a browser
//! recording), cuts it at pauses and transcribes each finished chunk on a
//! worker thread. While the worker is idle and the speaker pauses briefly,
//! it also decodes the audio after the last cut as a draft. When the
//! speaker stops and no speech followed the draft, the draft is the
//! transcript of that audio. Otherwise only the audio after the last cut is
//! left to decode. Either way the full transcript is ready shortly after the
//! answer ends instead of one whole-recording decode later.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::Serialize;
use tracing::debug;

use super::{Engine, Error, LanguageChoice, Result, Segment, Settings, Transcript};
use crate::audio::vad::{detect_speech, SpeechRegion, VadConfig};
use crate::audio::SAMPLE_RATE_HZ;
use crate::language::Language;

/// Silence that ends a chunk, in milliseconds.
const MIN_PAUSE_MS: u64 = 450;
/// Uncommitted audio after which a chunk is cut at its longest pause, even
/// when that pause is shorter than [`MIN_PAUSE_MS`].
const LONG_CHUNK_MS: u64 = 8_000;
/// Uncommitted audio after which a chunk is cut even without a pause.
const FORCE_CUT_MS: u64 = 25_000;
/// Silence after the last speech that starts a draft of the uncommitted
/// audio, in milliseconds.
const DRAFT_PAUSE_MS: u64 = 200;
/// Silence that a draft must hold after the last speech of the audio it
/// stands for, in milliseconds, so that no word is cut off.
const DRAFT_TRAILING_MS: u64 = 150;
/// Samples per millisecond at the engine's input rate.
const SAMPLES_PER_MS: usize = SAMPLE_RATE_HZ as usize / 1000;

struct ChunkJob {
    offset_ms: u64,
    samples: Vec<f32>,
    /// End of the last speech in `samples`, in milliseconds; 0 without speech.
    speech_end_ms: u64,
}

/// Returns the end of the last speech before `cut_ms`, clipped to it.
fn speech_end_before(regions: &[SpeechRegion], cut_ms: u64) -> u64 {
    regions
        .iter()
        .filter(|r| r.start_ms < cut_ms)
        .map(|r| r.end_ms.min(cut_ms))
        .next_back()
        .unwrap_or(0)
}

enum Job {
    /// Audio up to a cut, final.
    Chunk(ChunkJob),
    /// The uncommitted audio so far, decoded speculatively.
    Draft(ChunkJob),
}

/// Counts of the decoding work done for one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LiveReport {
    /// Chunks decoded, the last one included.
    pub chunks_decoded: usize,
    /// Drafts decoded.
    pub drafts_decoded: usize,
    /// Chunks whose draft was their transcript, with no decode of their own.
    pub drafts_used: usize,
    /// Whether audio was left to decode after [`LiveTranscriber::finish`]
    /// was called; false when every chunk was done or covered by a draft.
    pub decoded_after_finish: bool,
}

struct Draft {
    offset_ms: u64,
    len_ms: u64,
    speech_end_ms: u64,
    transcript: Transcript,
}

/// Incremental transcriber of one audio stream at 16 kHz mono.
pub struct LiveTranscriber {
    buffer: Vec<f32>,
    committed: usize,
    sender: Option<Sender<Job>>,
    worker: Option<JoinHandle<Result<WorkerOutput>>>,
    in_flight: Arc<AtomicUsize>,
    drafted_speech_end: Option<usize>,
    vad: VadConfig,
}

impl LiveTranscriber {
    /// Starts the worker thread that decodes chunks with `engine`.
    pub fn start(engine: Engine, settings: Settings) -> Result<LiveTranscriber> {
        settings.validate()?;
        let (sender, receiver) = mpsc::channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&in_flight);
        let worker = std::thread::Builder::new()
            .name("live-transcriber".into())
            .spawn(move || decode_jobs(&engine, settings, &receiver, &counter))
            .map_err(|e| Error::Inference(format!("cannot start transcription thread: {e}")))?;
        Ok(LiveTranscriber {
            buffer: Vec::new(),
            committed: 0,
            sender: Some(sender),
            worker: Some(worker),
            in_flight,
            drafted_speech_end: None,
            vad: VadConfig::default(),
        })
    }

    /// Appends samples, hands every chunk that ended in a pause to the
    /// worker, and sends an idle worker a draft request after a short pause.
    pub fn push(&mut self, samples: &[f32]) {
        self.buffer.extend_from_slice(samples);
        let mut cut = false;
        loop {
            let regions = detect_speech(&self.buffer[self.committed..], &self.vad);
            match self.next_cut(&regions) {
                Some(end_ms) => {
                    let speech_end_ms = speech_end_before(&regions, end_ms);
                    self.send_chunk(
                        self.committed + end_ms as usize * SAMPLES_PER_MS,
                        speech_end_ms,
                    );
                    cut = true;
                }
                None => {
                    if !cut && self.is_idle() {
                        self.maybe_draft(&regions);
                    }
                    return;
                }
            }
        }
    }

    /// Returns how many milliseconds of audio are not yet handed to the worker.
    pub fn pending_ms(&self) -> u64 {
        ((self.buffer.len() - self.committed) / SAMPLES_PER_MS) as u64
    }

    /// Returns whether the worker has no queued or running job.
    pub fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Decodes the rest of the audio and returns the whole transcript.
    pub fn finish(self) -> Result<Transcript> {
        self.finish_with_report().map(|(transcript, _)| transcript)
    }

    /// As [`LiveTranscriber::finish`], with what the worker decoded.
    pub fn finish_with_report(mut self) -> Result<(Transcript, LiveReport)> {
        let busy_before = !self.is_idle();
        let tail_left = self.committed < self.buffer.len();
        if tail_left {
            let regions = detect_speech(&self.buffer[self.committed..], &self.vad);
            let speech_end_ms = regions.last().map_or(0, |r| r.end_ms);
            self.send_chunk(self.buffer.len(), speech_end_ms);
        }
        drop(self.sender.take());
        let output = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(result)) => result?,
            _ => return Err(Error::Inference("transcription thread panicked".into())),
        };
        let mut report = output.report;
        report.decoded_after_finish = busy_before || (tail_left && !output.last_from_draft);
        let duration_ms = (self.buffer.len() / SAMPLES_PER_MS) as u64;
        Ok((merge(output.parts, duration_ms), report))
    }

    /// Finds the end of the next chunk in the uncommitted audio, in
    /// milliseconds from its start, if one is complete.
    fn next_cut(&self, regions: &[SpeechRegion]) -> Option<u64> {
        let tail_ms = self.pending_ms();
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
        let cut_ms = pause_end.or(trailing).or(longest_gap).or(forced)?;
        Some(cut_ms.min(tail_ms))
    }

    /// Sends the uncommitted audio as a draft when its speech ended at
    /// least [`DRAFT_PAUSE_MS`] ago and no draft covers that speech yet.
    fn maybe_draft(&mut self, regions: &[SpeechRegion]) {
        let Some(speech_end_ms) = regions.last().map(|r| r.end_ms) else {
            return;
        };
        let speech_end = self.committed + speech_end_ms as usize * SAMPLES_PER_MS;
        if self.pending_ms() < speech_end_ms + DRAFT_PAUSE_MS
            || self.drafted_speech_end == Some(speech_end)
        {
            return;
        }
        self.drafted_speech_end = Some(speech_end);
        let job = self.job(self.buffer.len(), speech_end_ms);
        debug!(
            offset_ms = job.offset_ms,
            samples = job.samples.len(),
            "draft queued"
        );
        self.send(Job::Draft(job));
    }

    fn job(&self, end: usize, speech_end_ms: u64) -> ChunkJob {
        ChunkJob {
            offset_ms: (self.committed / SAMPLES_PER_MS) as u64,
            samples: self.buffer[self.committed..end].to_vec(),
            speech_end_ms,
        }
    }

    fn send_chunk(&mut self, end: usize, speech_end_ms: u64) {
        let job = self.job(end, speech_end_ms);
        debug!(
            offset_ms = job.offset_ms,
            samples = job.samples.len(),
            "chunk queued"
        );
        self.committed = end;
        self.send(Job::Chunk(job));
    }

    fn send(&self, job: Job) {
        if let Some(sender) = &self.sender {
            self.in_flight.fetch_add(1, Ordering::AcqRel);
            // A closed channel means the worker failed, and finish() reports its error.
            if sender.send(job).is_err() {
                self.in_flight.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

/// Result of the worker thread: the chunk transcripts in order, its
/// counts, and whether the last chunk's transcript was a draft.
struct WorkerOutput {
    parts: Vec<Transcript>,
    report: LiveReport,
    last_from_draft: bool,
}

fn decode_jobs(
    engine: &Engine,
    mut settings: Settings,
    jobs: &Receiver<Job>,
    in_flight: &AtomicUsize,
) -> Result<WorkerOutput> {
    let mut output = WorkerOutput {
        parts: Vec::new(),
        report: LiveReport::default(),
        last_from_draft: false,
    };
    let mut draft: Option<Draft> = None;
    for job in jobs {
        let started = std::time::Instant::now();
        let kind = match &job {
            Job::Draft(_) => "draft",
            Job::Chunk(_) => "chunk",
        };
        let result = match job {
            Job::Draft(job) => {
                let transcript = engine.transcribe(&job.samples, &settings);
                output.report.drafts_decoded += 1;
                transcript.map(|transcript| {
                    draft = Some(Draft {
                        offset_ms: job.offset_ms,
                        len_ms: length_ms(&job.samples),
                        speech_end_ms: job.speech_end_ms,
                        transcript,
                    });
                })
            }
            Job::Chunk(job) => {
                let covered = draft.take().filter(|d| d.covers(&job));
                output.last_from_draft = covered.is_some();
                let part = match covered {
                    Some(draft) => {
                        output.report.drafts_used += 1;
                        Ok(draft.transcript)
                    }
                    None => {
                        output.report.chunks_decoded += 1;
                        engine.transcribe(&job.samples, &settings)
                    }
                };
                part.map(|mut part| {
                    shift(&mut part, job.offset_ms);
                    if settings.language == LanguageChoice::Auto && !part.no_speech {
                        if let Ok(language) = part.language.parse::<Language>() {
                            settings.language = LanguageChoice::Fixed(language);
                        }
                    }
                    output.parts.push(part);
                })
            }
        };
        in_flight.fetch_sub(1, Ordering::AcqRel);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        debug!(
            kind,
            elapsed_ms,
            drafts_used = output.report.drafts_used,
            "live job done"
        );
        result?;
    }
    Ok(output)
}

impl Draft {
    /// Tells whether the draft can stand for `chunk`. Both start at the same
    /// sample of one stream, so they hold the same speech when the chunk's
    /// last speech ends [`DRAFT_TRAILING_MS`] before the draft ends and the
    /// draft's last speech ends inside the chunk.
    fn covers(&self, chunk: &ChunkJob) -> bool {
        self.offset_ms == chunk.offset_ms
            && chunk.speech_end_ms + DRAFT_TRAILING_MS <= self.len_ms
            && self.speech_end_ms <= length_ms(&chunk.samples)
    }
}

fn length_ms(samples: &[f32]) -> u64 {
    (samples.len() / SAMPLES_PER_MS) as u64
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
