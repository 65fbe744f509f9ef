//! Team heatmaps from the store: the team's reps as rows and their stored
//! score samples over a window of days, aggregated by [`super::aggregate`].
//!
//! The HTTP service and the `callcoach heatmap` command share
//! [`build_team_heatmap`], so both show the same cells for the same data.

use std::path::Path;

use time::OffsetDateTime;

use super::{aggregate, DimensionSet, Heatmap, HeatmapConfig, Rep, ScoreSample, Source};
use crate::store::scores::{self, SampleFilter};
use crate::store::users::Role;
use crate::store::{RecordKind, Store, TeamId};

/// Errors of building a team heatmap.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The team does not exist.
    #[error("team {0} not found: list teams with `callcoach user list`")]
    UnknownTeam(TeamId),
    /// The store could not be read.
    #[error("failed to read the team's records")]
    Store(#[from] crate::store::Error),
    /// The dimension file or the samples were rejected.
    #[error(transparent)]
    Heatmap(#[from] super::Error),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds the heatmap of a team's reps over the `window_days` days before
/// `now`, with the columns listed in `dimensions_file`.
///
/// # Errors
///
/// [`Error::UnknownTeam`] for an unknown team, [`Error::Heatmap`] for an
/// invalid dimension file or window, [`Error::Store`] for a failed read.
pub async fn build_team_heatmap(
    store: &Store,
    team: &TeamId,
    window_days: u32,
    dimensions_file: &Path,
    now: OffsetDateTime,
) -> Result<Heatmap> {
    let config = HeatmapConfig {
        window_days,
        dimensions: DimensionSet::load(dimensions_file)?,
        ..HeatmapConfig::default()
    };
    let reps = team_reps(store, team).await?;

    let filter = SampleFilter {
        rep_id: None,
        team_id: Some(team.clone()),
        from: now - time::Duration::days(i64::from(window_days)),
        to: now,
    };
    let samples: Vec<ScoreSample> = store
        .score_samples(&filter)
        .await?
        .into_iter()
        .map(convert_sample)
        .collect();
    Ok(aggregate(&reps, &samples, now, &config)?)
}

/// Returns the reps of a team as heatmap rows, in the store's member order.
async fn team_reps(store: &Store, team_id: &TeamId) -> Result<Vec<Rep>> {
    let team = match store.team(team_id).await {
        Ok(team) => team,
        Err(crate::store::Error::NotFound { .. }) => {
            return Err(Error::UnknownTeam(team_id.clone()))
        }
        Err(err) => return Err(err.into()),
    };
    let members = store.team_members(team_id).await?;
    let reps = members
        .into_iter()
        .filter(|user| user.role == Role::Rep)
        .map(|user| Rep {
            id: user.id.to_string(),
            name: user.display_name,
            team: team.name.clone(),
            top_seller: user.top_seller,
        })
        .collect();
    Ok(reps)
}

/// Converts a stored sample of one dimension into a heatmap sample.
pub fn convert_sample(sample: scores::ScoreSample) -> ScoreSample {
    let (source, call_id, attempt_id) = match sample.source_kind {
        RecordKind::Drill => (Source::Drill, None, Some(sample.source_id)),
        RecordKind::Call => (Source::Call, Some(sample.source_id), None),
    };
    ScoreSample {
        rep_id: sample.rep_id.to_string(),
        scenario_id: sample.scenario_id,
        dimensions: vec![sample.dimension],
        source,
        score: sample.score.value(),
        at: sample.sampled_at,
        call_id,
        attempt_id,
    }
}
