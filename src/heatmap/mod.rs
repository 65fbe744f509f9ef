//! Skill-gap heatmaps: per rep and dimension, the weighted mean score over a
//! time window, compared with the team median and the top-seller baseline.
//!
//! [`aggregate`] turns [`ScoreSample`]s into a [`Heatmap`], which serialises
//! to JSON and renders as SVG ([`svg`]), PNG ([`png`]) and XLSX ([`xlsx`]).
//! Training tasks and unlock rules read the same samples and means.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod dimension;
pub mod png;
mod sample;
pub mod svg;
pub mod team;
pub mod xlsx;

pub use dimension::{DimensionSet, DimensionSpec};
pub use sample::{
    mean_score, median, MeanAccumulator, Rep, SampleWeights, ScoreSample, Source, Window,
};

/// Errors of heatmap aggregation and rendering.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// File that was read.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// A report file could not be written.
    #[error("failed to write {path}: {source}")]
    Write {
        /// File that was written.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The dimension list is invalid.
    #[error("invalid dimension list: {0}")]
    InvalidDimensions(String),
    /// A heatmap setting is out of range.
    #[error("invalid heatmap setting: {0}")]
    InvalidConfig(String),
    /// A sample score is not a number from 0 to 100.
    #[error("score {score} of rep {rep_id:?} in scenario {scenario_id:?} is not in 0-100")]
    InvalidScore {
        /// Rep of the sample.
        rep_id: String,
        /// Scenario of the sample.
        scenario_id: String,
        /// The rejected score.
        score: f64,
    },
    /// Two reps share an id.
    #[error("rep id {0:?} appears more than once in the rep list")]
    DuplicateRep(String),
    /// The generated SVG could not be parsed for rendering.
    #[error("failed to parse heatmap SVG: {0}")]
    Svg(String),
    /// The PNG could not be rendered or encoded.
    #[error("failed to render PNG: {0}")]
    Png(String),
    /// The XLSX workbook could not be built.
    #[error("failed to build XLSX workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Settings of [`aggregate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeatmapConfig {
    /// Window length in days, ending at the evaluation time (default 30).
    pub window_days: u32,
    /// Minimum number of samples for a measured cell (default 3).
    pub min_samples: usize,
    /// Weights of drill and call samples.
    pub weights: SampleWeights,
    /// Columns of the heatmap.
    pub dimensions: DimensionSet,
}

impl Default for HeatmapConfig {
    fn default() -> Self {
        HeatmapConfig {
            window_days: 30,
            min_samples: 3,
            weights: SampleWeights::default(),
            dimensions: DimensionSet::default(),
        }
    }
}

/// Whether a cell has enough samples to show a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// At least the minimum number of samples.
    Measured,
    /// Fewer samples than the minimum (possibly none): no score is shown.
    Insufficient,
}

/// One rep and dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Rep of the row.
    pub rep_id: String,
    /// Dimension id of the column.
    pub dimension: String,
    /// Measured or insufficient.
    pub status: CellStatus,
    /// Weighted mean score, `None` when insufficient.
    pub score: Option<f64>,
    /// Samples in the window, drills and calls together.
    pub samples: usize,
    /// Of those, samples from real calls.
    pub call_samples: usize,
    /// Median of the measured rep means in the rep's team.
    pub team_median: Option<f64>,
    /// Mean of the measured top-seller rep means.
    pub baseline: Option<f64>,
    /// `baseline - score`: positive when the rep is behind top sellers.
    pub gap: Option<f64>,
}

/// Median of one team in one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMedian {
    /// Team name.
    pub team: String,
    /// Dimension id.
    pub dimension: String,
    /// Median of measured rep means, `None` when no rep is measured.
    pub median: Option<f64>,
    /// Number of measured reps.
    pub reps: usize,
}

/// A skill-gap heatmap: reps as rows, dimensions as columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Time range of the samples.
    pub window: Window,
    /// Minimum number of samples for a measured cell.
    pub min_samples: usize,
    /// Columns in order.
    pub dimensions: Vec<DimensionSpec>,
    /// Rows in order.
    pub reps: Vec<Rep>,
    /// Cells row by row: `cells[rep * dimensions.len() + dimension]`.
    pub cells: Vec<Cell>,
    /// Top-seller baseline per dimension, in column order.
    pub baselines: Vec<Option<f64>>,
    /// Team medians, sorted by team then column.
    pub team_medians: Vec<TeamMedian>,
    /// Samples in the window that matched no listed rep.
    pub unmatched_samples: usize,
}

impl Heatmap {
    /// Returns the cell of a rep and dimension id.
    pub fn cell(&self, rep_id: &str, dimension: &str) -> Option<&Cell> {
        let row = self.reps.iter().position(|r| r.id == rep_id)?;
        let col = self.dimensions.iter().position(|d| d.id == dimension)?;
        self.cells.get(row * self.dimensions.len() + col)
    }

    /// Returns the cells of row `index`.
    ///
    /// # Panics
    ///
    /// Panics when `index` is not below `reps.len()`.
    pub fn row(&self, index: usize) -> &[Cell] {
        let width = self.dimensions.len();
        &self.cells[index * width..(index + 1) * width]
    }

    /// Returns the baseline of a dimension id.
    pub fn baseline(&self, dimension: &str) -> Option<f64> {
        let col = self.dimensions.iter().position(|d| d.id == dimension)?;
        self.baselines[col]
    }
}

/// Aggregates samples into a heatmap for the window ending at `now`.
///
/// Every sample is validated first, so one score outside 0-100 rejects the
/// input. A sample counts once for each configured dimension it lists;
/// dimensions that are not configured are skipped.
pub fn aggregate(
    reps: &[Rep],
    samples: &[ScoreSample],
    now: OffsetDateTime,
    config: &HeatmapConfig,
) -> Result<Heatmap> {
    validate_input(reps, samples, config)?;
    let window = Window::ending_at(now, config.window_days);
    let width = config.dimensions.len();

    let (accumulators, unmatched_samples) = accumulate(reps, samples, &window, config);
    let means: Vec<Option<f64>> = accumulators
        .iter()
        .map(|acc| {
            acc.mean
                .mean()
                .filter(|_| acc.mean.samples >= config.min_samples)
        })
        .collect();
    let baselines = top_seller_baselines(reps, &means, width);
    let team_medians = team_medians(reps, &means, &config.dimensions);

    let cells = build_cells(
        reps,
        &accumulators,
        &means,
        &baselines,
        &team_medians,
        config,
    );
    Ok(Heatmap {
        window,
        min_samples: config.min_samples,
        dimensions: config.dimensions.specs().to_vec(),
        reps: reps.to_vec(),
        cells,
        baselines,
        team_medians,
        unmatched_samples,
    })
}

fn validate_input(reps: &[Rep], samples: &[ScoreSample], config: &HeatmapConfig) -> Result<()> {
    config.weights.validate()?;
    if config.window_days == 0 || config.min_samples == 0 {
        return Err(Error::InvalidConfig(format!(
            "window_days and min_samples must be at least 1, got {} and {}",
            config.window_days, config.min_samples
        )));
    }
    let mut seen = HashSet::new();
    if let Some(rep) = reps.iter().find(|r| !seen.insert(r.id.as_str())) {
        return Err(Error::DuplicateRep(rep.id.clone()));
    }
    samples.iter().try_for_each(ScoreSample::validate)
}

struct CellAccumulator {
    mean: MeanAccumulator,
    calls: usize,
}

fn accumulate(
    reps: &[Rep],
    samples: &[ScoreSample],
    window: &Window,
    config: &HeatmapConfig,
) -> (Vec<CellAccumulator>, usize) {
    let width = config.dimensions.len();
    let rows: HashMap<&str, usize> = reps
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let cols: HashMap<&str, usize> = config
        .dimensions
        .specs()
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut accumulators: Vec<CellAccumulator> = (0..reps.len() * width)
        .map(|_| CellAccumulator {
            mean: MeanAccumulator::default(),
            calls: 0,
        })
        .collect();
    let mut unmatched = 0;

    for sample in samples.iter().filter(|s| window.contains(s.at)) {
        let Some(&row) = rows.get(sample.rep_id.as_str()) else {
            unmatched += 1;
            continue;
        };
        let mut counted: Vec<usize> = Vec::with_capacity(sample.dimensions.len());
        for col in sample
            .dimensions
            .iter()
            .filter_map(|d| cols.get(d.as_str()).copied())
        {
            if counted.contains(&col) {
                continue;
            }
            counted.push(col);
            let acc = &mut accumulators[row * width + col];
            acc.mean.add(sample.score, config.weights.of(sample.source));
            acc.calls += usize::from(sample.source == Source::Call);
        }
    }
    (accumulators, unmatched)
}

fn top_seller_baselines(reps: &[Rep], means: &[Option<f64>], width: usize) -> Vec<Option<f64>> {
    (0..width)
        .map(|col| {
            let mut acc = MeanAccumulator::default();
            let top_means = reps.iter().enumerate().filter(|(_, r)| r.top_seller);
            for score in top_means.filter_map(|(row, _)| means[row * width + col]) {
                acc.add(score, 1.0);
            }
            acc.mean()
        })
        .collect()
}

fn team_medians(reps: &[Rep], means: &[Option<f64>], dimensions: &DimensionSet) -> Vec<TeamMedian> {
    let width = dimensions.len();
    let mut teams: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (row, rep) in reps.iter().enumerate() {
        teams.entry(rep.team.as_str()).or_default().push(row);
    }
    let mut result = Vec::with_capacity(teams.len() * width);
    for (team, rows) in teams {
        for (col, spec) in dimensions.specs().iter().enumerate() {
            let mut values: Vec<f64> = rows
                .iter()
                .filter_map(|&row| means[row * width + col])
                .collect();
            result.push(TeamMedian {
                team: team.to_string(),
                dimension: spec.id.clone(),
                reps: values.len(),
                median: median(&mut values),
            });
        }
    }
    result
}

fn build_cells(
    reps: &[Rep],
    accumulators: &[CellAccumulator],
    means: &[Option<f64>],
    baselines: &[Option<f64>],
    team_medians: &[TeamMedian],
    config: &HeatmapConfig,
) -> Vec<Cell> {
    let width = config.dimensions.len();
    let medians: HashMap<(&str, &str), Option<f64>> = team_medians
        .iter()
        .map(|m| ((m.team.as_str(), m.dimension.as_str()), m.median))
        .collect();
    let mut cells = Vec::with_capacity(accumulators.len());
    for (row, rep) in reps.iter().enumerate() {
        for (col, spec) in config.dimensions.specs().iter().enumerate() {
            let index = row * width + col;
            let score = means[index];
            cells.push(Cell {
                rep_id: rep.id.clone(),
                dimension: spec.id.clone(),
                status: if score.is_some() {
                    CellStatus::Measured
                } else {
                    CellStatus::Insufficient
                },
                score,
                samples: accumulators[index].mean.samples,
                call_samples: accumulators[index].calls,
                team_median: medians
                    .get(&(rep.team.as_str(), spec.id.as_str()))
                    .copied()
                    .flatten(),
                baseline: baselines[col],
                gap: baselines[col].zip(score).map(|(b, s)| b - s),
            });
        }
    }
    cells
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// so a failed write never leaves a partial report.
///
/// A path that is not a regular file, such as `/dev/stdout` or a pipe, is
/// written in place. A link to a regular file is replaced at its target,
/// so the link stays.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let write_error = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(write_error)?;
            return std::io::Write::write_all(&mut file, bytes).map_err(write_error);
        }
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            let target = std::fs::canonicalize(path).map_err(write_error)?;
            return write_atomically(&target, bytes);
        }
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
    std::io::Write::write_all(&mut file, bytes).map_err(write_error)?;
    file.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn write_keeps_links_and_pipes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("report.svg");
        std::fs::write(&target, "old").expect("write target");
        let link = dir.path().join("latest.svg");
        std::os::unix::fs::symlink(&target, &link).expect("link");

        write_atomically(&link, b"<svg/>").expect("write through the link");

        let meta = std::fs::symlink_metadata(&link).expect("link metadata");
        assert!(meta.file_type().is_symlink(), "the link was replaced");
        assert_eq!(std::fs::read(&target).expect("target"), b"<svg/>");

        let fifo = dir.path().join("pipe");
        let mkfifo = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(mkfifo.is_ok_and(|s| s.success()), "mkfifo");
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).expect("read the pipe"))
        };
        write_atomically(&fifo, b"<svg/>").expect("write into the pipe");
        assert_eq!(reader.join().expect("reader"), b"<svg/>");
        let meta = std::fs::symlink_metadata(&fifo).expect("pipe metadata");
        assert!(!meta.is_file(), "the pipe was replaced by a file");
    }

    fn sample(rep: &str, dimension: &str, score: f64, at: OffsetDateTime) -> ScoreSample {
        ScoreSample {
            rep_id: rep.into(),
            scenario_id: "price_objection".into(),
            dimensions: vec![dimension.into()],
            source: Source::Drill,
            score,
            at,
            call_id: None,
            attempt_id: None,
        }
    }

    fn rep(id: &str, team: &str, top_seller: bool) -> Rep {
        Rep {
            id: id.into(),
            name: id.into(),
            team: team.into(),
            top_seller,
        }
    }

    #[test]
    fn sample_listing_dimension_twice_counts_once() {
        let now = datetime!(2025-04-01 00:00 UTC);
        let mut s = sample("a", "closing", 70.0, now - time::Duration::days(1));
        s.dimensions.push("closing".into());

        let map = aggregate(
            &[rep("a", "t", false)],
            &[s],
            now,
            &HeatmapConfig::default(),
        )
        .expect("valid input");

        assert_eq!(map.cell("a", "closing").expect("cell").samples, 1);
    }

    #[test]
    fn duplicate_rep_is_rejected() {
        let reps = [rep("a", "t", false), rep("a", "u", false)];

        let err = aggregate(
            &reps,
            &[],
            datetime!(2025-04-01 00:00 UTC),
            &HeatmapConfig::default(),
        )
        .unwrap_err();

        assert!(matches!(err, Error::DuplicateRep(id) if id == "a"));
    }

    #[test]
    fn unknown_rep_samples_are_counted() {
        let now = datetime!(2025-04-01 00:00 UTC);
        let samples = [sample(
            "ghost",
            "closing",
            50.0,
            now - time::Duration::hours(1),
        )];

        let map = aggregate(
            &[rep("a", "t", false)],
            &samples,
            now,
            &HeatmapConfig::default(),
        )
        .expect("valid input");

        assert_eq!(map.unmatched_samples, 1);
    }
}
