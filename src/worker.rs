//! The transcription worker pool: claims queued jobs, decodes and
//! transcribes their audio, scores drill attempts, and completes or fails
//! each job, renewing its lease while it runs.
//!
//! Each job runs in its own span with the job id and the recording's
//! SHA-256. Whisper inference runs on the blocking pool inside that span.
//! [`WorkerPool::shutdown`] lets running jobs finish within a grace period
//! and puts the rest back in the queue, so a restart resumes them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::audio::vad::{detect_speech, VadConfig};
use crate::audio::{self, Audio, DecodeLimits};
use crate::call::{self, Authorization, CallOptions};
use crate::knowledge::{Classifier, Corpus};
use crate::language::Language;
use crate::scoring::{score_answer, ScoreOptions};
use crate::store::jobs::{Job, NewJob, SubjectKind};
use crate::store::{self, CallId, DrillAttemptId, Score, Store, UserId};
use crate::transcribe::{Engine, LanguageChoice, Settings, Transcript};
use crate::unlock::RuleSet;

/// Maximum sleep of an idle worker between two claims.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Wake-ups between uploads, workers and requests that wait for a job.
#[derive(Debug, Default)]
pub struct QueueSignals {
    queued: Notify,
    finished: Notify,
}

impl QueueSignals {
    /// Wakes one idle worker after a job was queued.
    pub fn notify_queued(&self) {
        self.queued.notify_one();
    }

    /// Returns a future that completes at the next finished or failed job.
    pub fn finished(&self) -> tokio::sync::futures::Notified<'_> {
        self.finished.notified()
    }
}

/// The record whose audio a job transcribes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobSubject {
    /// A plain transcription owned by the uploader.
    Standalone(UserId),
    /// A drill attempt, scored after transcription.
    Drill(DrillAttemptId),
    /// A real call.
    Call(CallId),
}

impl JobSubject {
    /// Returns the subject of a stored job.
    pub fn of(job: &Job) -> store::Result<JobSubject> {
        match job.subject_kind {
            SubjectKind::Transcription => {
                UserId::parse(&job.subject_id).map(JobSubject::Standalone)
            }
            SubjectKind::Drill => DrillAttemptId::parse(&job.subject_id).map(JobSubject::Drill),
            SubjectKind::Call => CallId::parse(&job.subject_id).map(JobSubject::Call),
        }
    }

    /// Builds the row of a new job for this subject.
    pub fn new_job(
        &self,
        audio: store::audio_blobs::AudioSha256,
        language: Option<Language>,
        max_attempts: u32,
    ) -> NewJob {
        let (subject_kind, subject_id) = match self {
            JobSubject::Standalone(user) => (SubjectKind::Transcription, user.to_string()),
            JobSubject::Drill(attempt) => (SubjectKind::Drill, attempt.to_string()),
            JobSubject::Call(call) => (SubjectKind::Call, call.to_string()),
        };
        NewJob {
            audio_sha256: audio,
            subject_kind,
            subject_id,
            language,
            max_attempts,
        }
    }
}

/// Shared state of every worker.
pub struct WorkerContext {
    /// The database and audio files.
    pub store: Store,
    /// The loaded Whisper model.
    pub engine: Engine,
    /// Scenarios that drill attempts are scored against.
    pub corpus: Arc<Corpus>,
    /// Ranks the scenarios of customer turns in calls.
    pub classifier: Arc<Classifier>,
    /// Wake-ups of idle workers and waiting requests.
    pub signals: Arc<QueueSignals>,
    /// Lease of a claimed job.
    pub lease: Duration,
    /// CPU threads of one transcription.
    pub threads: usize,
    /// Longest accepted recording, in milliseconds.
    pub max_audio_ms: u64,
    /// Unlock rules re-evaluated after each scored drill or call, if loaded.
    pub rules: Option<Arc<RuleSet>>,
}

/// Running workers and the switch that stops them.
#[derive(Debug)]
pub struct WorkerPool {
    handles: Vec<JoinHandle<()>>,
    worker_ids: Vec<String>,
    stop: watch::Sender<bool>,
}

impl WorkerPool {
    /// Starts `count` workers; 0 starts none, so jobs wait in the queue.
    pub fn spawn(context: &Arc<WorkerContext>, count: usize) -> WorkerPool {
        let (stop, stopped) = watch::channel(false);
        let pool_id = &store::users::hash_token(&format!("{:?}", Instant::now()))[..8];
        let worker_ids: Vec<String> = (0..count)
            .map(|n| format!("worker-{}-{pool_id}-{n}", std::process::id()))
            .collect();
        let handles = worker_ids
            .iter()
            .map(|id| {
                let task = run_worker(context.clone(), id.clone(), stopped.clone());
                tokio::spawn(task)
            })
            .collect();
        tracing::info!(
            workers = count,
            threads = context.threads,
            "worker pool started"
        );
        WorkerPool {
            handles,
            worker_ids,
            stop,
        }
    }

    /// Returns an empty pool, for a service without a model.
    pub fn empty() -> WorkerPool {
        WorkerPool {
            handles: Vec::new(),
            worker_ids: Vec::new(),
            stop: watch::channel(false).0,
        }
    }

    /// Stops claiming, waits up to `grace` for running jobs, then re-queues the rest.
    pub async fn shutdown(self, grace: Duration, store: &Store) {
        let _ = self.stop.send(true);
        let mut handles = self.handles;
        let all_done = async {
            for handle in &mut handles {
                let _ = handle.await;
            }
        };
        if tokio::time::timeout(grace, all_done).await.is_ok() {
            tracing::info!("worker pool stopped");
            return;
        }
        for handle in &handles {
            handle.abort();
        }
        for worker in &self.worker_ids {
            match store.requeue_worker_jobs(worker).await {
                Ok(moved) if moved > 0 => tracing::warn!(worker, moved, "running job re-queued"),
                Ok(_) => {}
                Err(err) => tracing::error!(worker, error = %err, "failed to re-queue jobs"),
            }
        }
    }
}

async fn run_worker(context: Arc<WorkerContext>, worker: String, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let queued = context.signals.queued.notified();
        tokio::pin!(queued);
        queued.as_mut().enable();
        match context.store.claim_job(&worker, context.lease).await {
            Ok(Some(job)) => {
                process_job(&context, &worker, job).await;
                continue;
            }
            Ok(None) => {}
            Err(err) => tracing::error!(worker, error = %err, "failed to claim a job"),
        }
        tokio::select! {
            () = &mut queued => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn process_job(context: &WorkerContext, worker: &str, job: Job) {
    let span = tracing::info_span!(
        "job",
        job = %job.id,
        recording = %job.audio_sha256,
        subject = %job.subject_id,
        attempt = job.attempts,
    );
    async {
        let started = Instant::now();
        tracing::info!("job started");
        match run_with_heartbeat(context, worker, &job).await {
            Ok(result) => match context.store.complete_job(&job.id, worker, &result).await {
                Ok(()) => {
                    let duration_ms = started.elapsed().as_millis() as u64;
                    tracing::info!(duration_ms, "job done");
                }
                Err(err) => tracing::error!(error = %err, "failed to store the job result"),
            },
            Err(err) => {
                let chain = format!("{err:#}");
                match context.store.fail_job(&job.id, worker, &chain).await {
                    Ok(status) => tracing::error!(error = %chain, %status, "job attempt failed"),
                    Err(store_err) => {
                        tracing::error!(error = %chain, store_error = %store_err, "job lost")
                    }
                }
            }
        }
        context.signals.finished.notify_waiters();
    }
    .instrument(span)
    .await;
}

async fn run_with_heartbeat(
    context: &WorkerContext,
    worker: &str,
    job: &Job,
) -> anyhow::Result<serde_json::Value> {
    let work = execute(context, job);
    tokio::pin!(work);
    let mut ticker = tokio::time::interval(context.lease / 3);
    ticker.tick().await;
    loop {
        tokio::select! {
            result = &mut work => return result,
            _ = ticker.tick() => {
                context
                    .store
                    .heartbeat_job(&job.id, worker, context.lease)
                    .await
                    .context("renew the job lease")?;
            }
        }
    }
}

async fn execute(context: &WorkerContext, job: &Job) -> anyhow::Result<serde_json::Value> {
    let subject = JobSubject::of(job).context("read the job subject")?;
    let stored = context
        .store
        .audio(&job.audio_sha256)
        .await
        .context("look up the audio")?;
    let bytes = context
        .store
        .read_audio(&job.audio_sha256)
        .await
        .context("read the audio file")?;
    let audio = decode(bytes, stored.extension, context.max_audio_ms).await?;
    let language = job
        .language
        .map_or(LanguageChoice::Auto, LanguageChoice::Fixed);
    if let JobSubject::Call(call) = &subject {
        return analyze_call(context, call, audio, language).await;
    }
    let settings = Settings {
        language,
        threads: context.threads,
        ..Settings::default()
    };
    let (transcript, samples) = transcribe(context.engine.clone(), audio.mono(), settings).await?;
    match subject {
        JobSubject::Drill(attempt) => score_drill(context, &attempt, &transcript, &samples).await,
        _ => Ok(serde_json::json!({ "transcript": transcript })),
    }
}

async fn decode(
    bytes: Vec<u8>,
    extension: Option<String>,
    max_audio_ms: u64,
) -> anyhow::Result<Audio> {
    let limits = DecodeLimits {
        max_duration_ms: max_audio_ms,
        ..DecodeLimits::default()
    };
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        audio::decode_bytes(&bytes, extension.as_deref(), &limits)
    })
    .await
    .context("join the decoder task")?
    .context("decode the audio")
}

async fn transcribe(
    engine: Engine,
    samples: Vec<f32>,
    settings: Settings,
) -> anyhow::Result<(Transcript, Vec<f32>)> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let transcript = engine.transcribe(&samples, &settings)?;
        Ok::<_, crate::transcribe::Error>((transcript, samples))
    })
    .await
    .context("join the transcription task")?
    .context("transcribe the audio")
}

/// Scores a transcribed drill attempt and stores its result and score samples.
async fn score_drill(
    context: &WorkerContext,
    id: &DrillAttemptId,
    transcript: &Transcript,
    samples: &[f32],
) -> anyhow::Result<serde_json::Value> {
    let attempt = context
        .store
        .drill_attempt(id)
        .await
        .context("load the drill attempt")?;
    let scenario = context
        .corpus
        .scenario(&attempt.scenario_id)
        .with_context(|| format!("scenario {:?} is not in the corpus", attempt.scenario_id))?;
    let speech = detect_speech(samples, &VadConfig::default());
    let options = ScoreOptions {
        language: Some(attempt.language),
        ..ScoreOptions::default()
    };
    let score =
        score_answer(scenario, transcript, &speech, &options).context("score the answer")?;
    let overall = Score::new(score.overall.score).context("check the overall score")?;
    let score_samples = crate::drill::score_samples_of(scenario, overall);
    let score_json = serde_json::to_value(&score).context("serialise the drill score")?;
    context
        .store
        .record_drill_result(id, &score_json, overall, &score_samples)
        .await
        .context("store the drill result")?;
    tracing::info!(overall = overall.value(), "drill attempt scored");
    reevaluate_permissions(&context.store, context.rules.as_deref(), &attempt.rep_id).await;
    close_completed_training(&context.store, &attempt.rep_id).await;
    Ok(serde_json::json!({ "transcript": transcript, "drill_attempt_id": id }))
}

/// Analyses a consented call (turns, scenarios, latencies) and stores the
/// analysis with a score per scenario and its heatmap samples. A stereo
/// call is read with the rep on the channel stored with the call.
async fn analyze_call(
    context: &WorkerContext,
    id: &CallId,
    audio: Audio,
    language: LanguageChoice,
) -> anyhow::Result<serde_json::Value> {
    let call = context.store.call(id).await.context("load the call")?;
    let authorization = Authorization {
        consent_recorded: true,
        recorded_by: call.consent.recorded_by.to_string(),
        method: call.consent.method,
    };
    let options = CallOptions {
        rep_channel: usize::from(call.rep_channel.index()),
        language,
        threads: context.threads,
    };
    let (engine, corpus, classifier) = (
        context.engine.clone(),
        context.corpus.clone(),
        context.classifier.clone(),
    );
    let span = tracing::Span::current();
    let analysis = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        call::analyze(
            &engine,
            &corpus,
            &classifier,
            &audio,
            &authorization,
            &options,
        )
    })
    .await
    .context("join the call analysis task")?
    .context("analyse the call")?;

    let mut scores = Vec::new();
    let mut samples = Vec::new();
    for entry in &analysis.summary.scenario_scores {
        let score = Score::new(entry.score).context("check a scenario score")?;
        scores.push((entry.scenario_id.clone(), score));
        if let Some(scenario) = context.corpus.scenario(&entry.scenario_id) {
            samples.extend(crate::drill::score_samples_of(scenario, score));
        }
    }
    let json = serde_json::to_value(&analysis).context("serialise the call analysis")?;
    context
        .store
        .record_call_analysis(id, &json, &scores, &samples)
        .await
        .context("store the call analysis")?;
    tracing::info!(scenarios = scores.len(), "call analysed");
    reevaluate_permissions(&context.store, context.rules.as_deref(), &call.rep_id).await;
    Ok(serde_json::json!({ "call_id": id, "turns": analysis.turns.len() }))
}

/// Re-evaluates a rep's unlock rules after new evidence, logging instead of
/// failing: a scored result stays stored even when the rules cannot run.
pub async fn reevaluate_permissions(store: &Store, rules: Option<&RuleSet>, rep: &UserId) {
    let Some(rules) = rules else { return };
    let actor = crate::unlock::Actor::RulesEngine;
    match crate::unlock::apply::reevaluate(store, rules, rep, &actor, crate::store::now()).await {
        Ok(evaluation) => {
            tracing::debug!(rep = %rep, changes = evaluation.changes.len(), "unlock rules evaluated");
        }
        Err(err) => tracing::warn!(rep = %rep, error = %err, "unlock rules could not be evaluated"),
    }
}

/// Re-evaluates every rep after the rules changed, logging the outcome.
pub async fn reevaluate_all_reps(store: &Store, rules: &RuleSet) {
    let actor = crate::unlock::Actor::RulesEngine;
    match crate::unlock::apply::reevaluate_all(store, rules, &actor, crate::store::now()).await {
        Ok((reps, changes)) => {
            tracing::info!(reps, changes, "reps re-evaluated under the new rules")
        }
        Err(err) => {
            tracing::warn!(error = %err, "reps could not be re-evaluated under the new rules")
        }
    }
}

/// Closes training tasks that the new attempt completed; a failure is
/// logged because the scored attempt is already stored.
async fn close_completed_training(store: &Store, rep: &UserId) {
    let required = crate::training::TrainingConfig::default().drills_required;
    match crate::training_store::close_completed_tasks(store, rep, required, store::now()).await {
        Ok(closed) => {
            for task in closed {
                tracing::info!(rep = %rep, task = %task.id, "training task completed");
            }
        }
        Err(err) => tracing::warn!(rep = %rep, error = %err, "training tasks could not be updated"),
    }
}
