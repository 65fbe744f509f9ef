//! Start-up and shutdown of `callcoach serve`.
//!
//! [`start`] turns a [`Config`] into ready objects in order: the store
//! (jobs cut off by the last stop go back to the queue), the Whisper model,
//! the corpus and its index, the worker pool and the listening socket.
//! [`Service::stop`] stops accepting requests, lets running jobs finish
//! within the grace period, re-queues the rest and closes the store.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::heatmap::DimensionSet;
use crate::http::{self, AppState, KnowledgeIndexHandle};
use crate::knowledge::{Classifier, Corpus, KnowledgeIndex};
use crate::store::{Store, StoreConfig};
use crate::transcribe::{locate_model, Engine};
use crate::unlock::RuleSet;
use crate::worker::{QueueSignals, WorkerContext, WorkerPool};

/// A running service: its address and the switch that stops it.
#[derive(Debug)]
pub struct Service {
    addr: SocketAddr,
    /// Held while the service runs, so a second one on the same data
    /// directory is refused.
    _data_lock: std::fs::File,
    store: Store,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Opens everything the service needs, binds the socket and starts serving.
pub async fn start(config: Config) -> anyhow::Result<Service> {
    let config = Arc::new(config);
    let data_lock = lock_data_dir(&config.data_dir)?;
    let store = open_store(&config).await?;
    store
        .requeue_running_jobs()
        .await
        .context("re-queue the jobs cut off by the last stop")?;
    let engine = load_engine(&config).await?;
    let (corpus, index) = open_knowledge(&config).await?;
    let signals = Arc::new(QueueSignals::default());
    let rules = load_rules(&config);

    let workers = match &engine {
        Some(engine) => {
            let context = Arc::new(WorkerContext {
                store: store.clone(),
                engine: engine.clone(),
                corpus: corpus.clone(),
                classifier: Arc::new(Classifier::new(&corpus)),
                signals: signals.clone(),
                lease: config.job_lease,
                threads: config.transcribe_threads,
                max_audio_ms: config.max_audio_ms,
                rules: rules.clone(),
            });
            WorkerPool::spawn(&context, config.workers)
        }
        None => WorkerPool::empty(),
    };
    let state = AppState {
        store: store.clone(),
        config: config.clone(),
        corpus,
        index,
        engine,
        signals,
        rules,
    };
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("bind {} (setting addr)", config.addr))?;
    let addr = listener.local_addr().context("read the bound address")?;
    tracing::info!(%addr, workers = config.workers, "listening");

    let (watch_stop, watch_stopped) = tokio::sync::watch::channel(false);
    if let (Some(rules), Some(every)) = (&state.rules, config.unlock_rules_poll) {
        let rules = Arc::clone(rules);
        tokio::spawn(watch_rules(store.clone(), rules, every, watch_stopped));
    }
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve(listener, state, stopped, workers, watch_stop));
    Ok(Service {
        addr,
        _data_lock: data_lock,
        store,
        stop,
        task,
    })
}

impl Service {
    /// Returns the address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the store the service uses.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops the service gracefully and waits until it has stopped.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("join the server task")?
    }

    /// Serves until SIGINT or SIGTERM, then stops gracefully.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutdown signal received");
        self.stop().await
    }
}

async fn serve(
    listener: TcpListener,
    state: AppState,
    stopped: oneshot::Receiver<()>,
    workers: WorkerPool,
    watchers: tokio::sync::watch::Sender<bool>,
) -> anyhow::Result<()> {
    let store = state.store.clone();
    let grace = state.config.shutdown_grace;
    let app = http::router(state);
    let (http_stop, http_stopped) = oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = http_stopped.await;
    });
    let server = tokio::spawn(async move { server.await });

    let _ = stopped.await;
    let _ = watchers.send(true);
    let _ = http_stop.send(());
    workers.shutdown(grace, &store).await;
    let served = tokio::time::timeout(grace, server).await;
    store.close().await;
    match served {
        Ok(joined) => joined
            .context("join the HTTP server")?
            .context("serve HTTP"),
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "open requests cut off at shutdown"
            );
            Ok(())
        }
    }
}

/// Takes the lock file of the data directory, which one running service
/// holds; the operating system drops it when the process ends.
fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data_dir).with_context(|| {
        format!(
            "create the data directory {} (setting data_dir)",
            data_dir.display()
        )
    })?;
    let path = data_dir.join("callcoach.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another callcoach service is using the data directory {} (it holds {}): stop it, \
             or give this one its own directory with --data",
            data_dir.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("lock {}", path.display()))
        }
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store_config = StoreConfig {
        data_dir: config.data_dir.clone(),
        database_url: config
            .database_url
            .as_ref()
            .map(|url| url.expose().to_string()),
        max_connections: None,
    };
    Store::open(&store_config).await.with_context(|| {
        format!(
            "open the store in {} (settings data_dir, database_url)",
            config.data_dir.display()
        )
    })
}

/// Loads the model named by the `model` setting, or the default one if it
/// exists. Without a setting and without the default file the service runs
/// without transcription, and `/readyz` reports the missing model.
async fn load_engine(config: &Config) -> anyhow::Result<Option<Engine>> {
    let explicit = config.model.clone();
    let path = match locate_model(explicit.as_deref()) {
        Ok(path) => path,
        Err(err) if explicit.is_none() => {
            tracing::warn!(error = %err, "no Whisper model: jobs wait in the queue");
            return Ok(None);
        }
        Err(err) => return Err(err).context("find the Whisper model (setting model)"),
    };
    let shown = path.display().to_string();
    let engine = tokio::task::spawn_blocking(move || Engine::load(&path))
        .await
        .context("join the model loader")?
        .with_context(|| format!("load the Whisper model {shown} (setting model)"))?;
    Ok(Some(engine))
}

async fn open_knowledge(
    config: &Config,
) -> anyhow::Result<(Arc<Corpus>, Arc<KnowledgeIndexHandle>)> {
    let corpus_dir = config.corpus_dir.clone();
    let index_dir = config.index_dir();
    tokio::task::spawn_blocking(move || {
        let corpus = Corpus::load(&corpus_dir).with_context(|| {
            format!(
                "load the corpus {} (setting corpus_dir)",
                corpus_dir.display()
            )
        })?;
        let mut index = KnowledgeIndex::open_or_create(&index_dir).with_context(|| {
            format!("open the index {} (setting index_dir)", index_dir.display())
        })?;
        let report = index.update(&corpus).context("update the search index")?;
        tracing::info!(
            added = report.added.len(),
            updated = report.updated.len(),
            documents = index.document_count(),
            "index open"
        );
        Ok((Arc::new(corpus), Arc::new(KnowledgeIndexHandle(index))))
    })
    .await
    .context("join the index loader")?
}

/// Checks the rule file every `every` until `stop` changes, reloads it when
/// it changed and re-evaluates every rep under the new rules. An invalid
/// file is logged by the reload, once per change, and the rules in force
/// stay.
async fn watch_rules(
    store: Store,
    rules: Arc<RuleSet>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut seen = rules.file_stamp();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        let checked = {
            let rules = Arc::clone(&rules);
            tokio::task::spawn_blocking(move || {
                let outcome = rules.reload_if_changed(&mut seen);
                (outcome, seen)
            })
            .await
        };
        let Ok((outcome, stamp)) = checked else {
            continue;
        };
        seen = stamp;
        if let Some(Ok(_)) = outcome {
            crate::worker::reevaluate_all_reps(&store, &rules).await;
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "failed to listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "failed to listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Loads the unlock rules; a missing or invalid rule file is logged and
/// leaves the service without automatic grants rather than stopping it.
/// Loaded rules are re-read when the file changes (setting
/// `unlock_rules_poll_secs`) and on `POST /api/v1/unlock-rules/reload`.
///
/// NOTE: only rules that loaded at start-up are re-read; after a failed
/// first load the service needs a restart to pick up a fixed file.
fn load_rules(config: &Config) -> Option<Arc<RuleSet>> {
    let path = &config.unlock_rules_file;
    let loaded = DimensionSet::load(&config.dimensions_file)
        .map_err(|err| err.to_string())
        .and_then(|dimensions| RuleSet::load(path, dimensions).map_err(|err| err.to_string()));
    match loaded {
        Ok(rules) => {
            tracing::info!(path = %path.display(), "unlock rules loaded");
            Some(Arc::new(rules))
        }
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "unlock rules not loaded; permissions change only by hand");
            None
        }
    }
}
