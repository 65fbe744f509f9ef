//! The tantivy index of the corpus and its incremental build.
//!
//! The index records, in the payload of each commit, the content hash of
//! every scenario it holds. An update deletes and re-adds only scenarios
//! whose hash changed, with one writer thread, and commits every
//! [`SCENARIOS_PER_COMMIT`] scenarios. It then merges all segments into
//! one, so that deleted documents leave the document frequencies. Two fresh
//! builds of one corpus give identical scores. An updated index ranks like a
//! fresh build, but its scores may differ by a fraction of a percent,
//! because tantivy recomputes the average field length of a merged segment
//! with deletions from the quantised field norms.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::NoMergePolicy;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use super::analyzer::Analyzers;
use super::schema::{build_schema, scenario_documents, Fields, SCHEMA_VERSION};
use super::{io_error, Corpus, Error, Result};

/// Number of changed scenarios written between two commits.
pub(crate) const SCENARIOS_PER_COMMIT: usize = 6;
/// Memory budget of the single indexing thread, in bytes.
const WRITER_MEMORY_BYTES: usize = 50_000_000;

/// Changes of one update, by scenario id in corpus order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildReport {
    /// Scenarios that were not in the index.
    pub added: Vec<String>,
    /// Scenarios whose content changed and were re-indexed.
    pub updated: Vec<String>,
    /// Scenarios removed because their file is gone.
    pub removed: Vec<String>,
    /// Scenarios left as they were.
    pub unchanged: Vec<String>,
    /// Documents written.
    pub documents: usize,
    /// Commits made.
    pub commits: usize,
}

/// State stored in the commit payload.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    scenarios: BTreeMap<String, String>,
}

/// The knowledge index in a data directory.
pub struct KnowledgeIndex {
    pub(crate) dir: PathBuf,
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) analyzers: Analyzers,
}

impl KnowledgeIndex {
    /// Opens the index in `dir`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingIndex`] when `dir` contains no index,
    /// [`Error::SchemaMismatch`] when it was built by another version.
    pub fn open(dir: &Path) -> Result<KnowledgeIndex> {
        let directory =
            MmapDirectory::open(dir).map_err(|_| Error::MissingIndex(dir.to_path_buf()))?;
        if !Index::exists(&directory).unwrap_or(false) {
            return Err(Error::MissingIndex(dir.to_path_buf()));
        }
        let index = Index::open(directory)?;
        Self::wrap(dir, index)
    }

    /// Opens the index in `dir`, creating the directory and an empty index
    /// when there is none.
    pub fn open_or_create(dir: &Path) -> Result<KnowledgeIndex> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let directory = MmapDirectory::open(dir).map_err(|e| Error::Index(e.into()))?;
        let (schema, _) = build_schema();
        let index = Index::open_or_create(directory, schema)?;
        Self::wrap(dir, index)
    }

    fn wrap(dir: &Path, index: Index) -> Result<KnowledgeIndex> {
        let (schema, fields) = build_schema();
        if index.schema() != schema {
            return Err(Error::SchemaMismatch(dir.to_path_buf()));
        }
        let analyzers = Analyzers::new();
        analyzers.register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let kb = KnowledgeIndex {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            analyzers,
        };
        let payload = kb.payload()?;
        if payload.schema != SCHEMA_VERSION && !payload.scenarios.is_empty() {
            return Err(Error::SchemaMismatch(dir.to_path_buf()));
        }
        Ok(kb)
    }

    /// Returns the content hash of each indexed scenario, by id.
    pub fn scenario_hashes(&self) -> Result<BTreeMap<String, String>> {
        Ok(self.payload()?.scenarios)
    }

    /// Returns the number of documents in the last commit.
    pub fn document_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn payload(&self) -> Result<Payload> {
        let metas = self.index.load_metas()?;
        let payload = metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok());
        Ok(payload.unwrap_or_default())
    }

    /// Brings the index in line with `corpus`, re-indexing only scenarios
    /// whose content hash changed.
    #[tracing::instrument(skip_all, fields(dir = %self.dir.display()))]
    pub fn update(&mut self, corpus: &Corpus) -> Result<BuildReport> {
        let started = std::time::Instant::now();
        let mut state = self.payload()?;
        state.schema = SCHEMA_VERSION;
        let mut writer: IndexWriter = self.index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let mut report = BuildReport::default();
        let mut pending = 0;
        for file in &corpus.files {
            let id = &file.scenario.id;
            match state.scenarios.get(id) {
                Some(hash) if *hash == file.content_hash => {
                    report.unchanged.push(id.clone());
                    continue;
                }
                Some(_) => report.updated.push(id.clone()),
                None => report.added.push(id.clone()),
            }
            writer.delete_term(Term::from_field_text(self.fields.scenario, id));
            for doc in scenario_documents(&file.scenario, &self.fields) {
                writer.add_document(doc)?;
                report.documents += 1;
            }
            state
                .scenarios
                .insert(id.clone(), file.content_hash.clone());
            pending += 1;
            if pending == SCENARIOS_PER_COMMIT {
                commit(&mut writer, &state, &mut report)?;
                pending = 0;
            }
        }
        let kept: Vec<String> = corpus.files.iter().map(|f| f.scenario.id.clone()).collect();
        let gone: Vec<String> = state
            .scenarios
            .keys()
            .filter(|id| !kept.contains(id))
            .cloned()
            .collect();
        for id in gone {
            writer.delete_term(Term::from_field_text(self.fields.scenario, &id));
            state.scenarios.remove(&id);
            report.removed.push(id);
            pending += 1;
        }
        if pending > 0 {
            commit(&mut writer, &state, &mut report)?;
        }
        if report.commits > 0 {
            merge_all(&self.index, &mut writer)?;
        }
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        let duration_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            added = report.added.len(),
            updated = report.updated.len(),
            removed = report.removed.len(),
            commits = report.commits,
            duration_ms,
            "index updated"
        );
        Ok(report)
    }
}

fn commit(writer: &mut IndexWriter, state: &Payload, report: &mut BuildReport) -> Result<()> {
    let payload = serde_json::to_string(state).expect("the payload always serialises to JSON");
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit()?;
    report.commits += 1;
    Ok(())
}

fn merge_all(index: &Index, writer: &mut IndexWriter) -> Result<()> {
    let segments = index.searchable_segment_ids()?;
    if !segments.is_empty() {
        writer.merge(&segments).wait()?;
    }
    writer.garbage_collect_files().wait()?;
    Ok(())
}
