//! The daily draw: one scenario per rep and day, chosen by a weighted
//! choice that a SHA-256 of the rep id and the ISO date seeds.
//!
//! Weights favour scenarios that exercise the rep's weak dimensions (from
//! recent score samples) and scenarios of open training tasks. A scenario
//! is not drawn again until the rep has seen every other scenario of the
//! corpus since the last full round, so the candidates are the scenarios
//! not yet drawn in the current round.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::Date;

use crate::knowledge::Scenario;
use crate::store::drills::DailyDraw;
use crate::store::training::TrainingTask;

/// Weight of every candidate before weak dimensions and tasks add to it.
pub const BASE_WEIGHT: f64 = 1.0;
/// Extra weight per unit of weakness (0 to 1) of a scenario's weakest dimension.
pub const WEAK_DIMENSION_WEIGHT: f64 = 3.0;
/// Extra weight of a scenario that an open training task names.
pub const TASK_SCENARIO_WEIGHT: f64 = 4.0;
/// Extra weight of a scenario whose dimension has an open task for any scenario.
pub const TASK_DIMENSION_WEIGHT: f64 = 2.0;

/// What the draw knows about one rep on one day.
#[derive(Debug, Clone, Copy)]
pub struct DrawInput<'a> {
    /// The rep, as stored.
    pub rep_id: &'a str,
    /// Day of the drill.
    pub date: Date,
    /// Every scenario of the corpus.
    pub scenarios: &'a [&'a Scenario],
    /// Mean recent score (0 to 100) per dimension id; missing means unmeasured.
    pub dimension_scores: &'a BTreeMap<String, f64>,
    /// The rep's open training tasks.
    pub open_tasks: &'a [TrainingTask],
    /// Earlier draws of the rep, oldest first; draws of `date` are ignored.
    pub history: &'a [DailyDraw],
}

/// One candidate scenario with its weight and the reasons behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Scenario id.
    pub scenario_id: String,
    /// Relative weight of the choice, at least [`BASE_WEIGHT`].
    pub weight: f64,
    /// Why the weight is above the base, in plain words.
    pub reasons: Vec<String>,
}

/// The result of a draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draw {
    /// The chosen scenario with its weight and reasons.
    pub chosen: Candidate,
    /// Sum of the weights of every candidate.
    pub total_weight: f64,
    /// Number of scenarios not yet drawn in the current round.
    pub candidates: usize,
    /// A second number from the same seed, for choosing the strategy and
    /// trigger line shown with the scenario.
    pub variant_seed: u64,
}

/// Draws the scenario of the day; `None` when there are no scenarios.
pub fn draw_scenario(input: &DrawInput<'_>) -> Option<Draw> {
    let pool = unseen_scenarios(input);
    let candidates: Vec<Candidate> = pool.iter().map(|s| weigh(s, input)).collect();
    let total_weight: f64 = candidates.iter().map(|c| c.weight).sum();
    let (pick, variant_seed) = seed_numbers(input.rep_id, input.date);

    let target = pick * total_weight;
    let mut running = 0.0;
    let mut chosen = candidates.last()?.clone();
    for candidate in &candidates {
        running += candidate.weight;
        if target < running {
            chosen = candidate.clone();
            break;
        }
    }
    Some(Draw {
        chosen,
        total_weight,
        candidates: candidates.len(),
        variant_seed,
    })
}

/// Returns the scenarios, sorted by id, not drawn since the last full round.
fn unseen_scenarios<'a>(input: &DrawInput<'a>) -> Vec<&'a Scenario> {
    let all: BTreeSet<&str> = input.scenarios.iter().map(|s| s.id.as_str()).collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let earlier = input.history.iter().filter(|d| d.date != input.date);
    for id in earlier.flat_map(|d| d.scenario_ids.iter()) {
        if let Some(known) = all.get(id.as_str()) {
            seen.insert(known);
        }
        if seen.len() == all.len() {
            seen.clear();
        }
    }
    let mut pool: Vec<&Scenario> = input
        .scenarios
        .iter()
        .copied()
        .filter(|s| !seen.contains(s.id.as_str()))
        .collect();
    pool.sort_by(|a, b| a.id.cmp(&b.id));
    pool
}

fn weigh(scenario: &Scenario, input: &DrawInput<'_>) -> Candidate {
    let mut weight = BASE_WEIGHT;
    let mut reasons = Vec::new();
    let weakest = scenario
        .dimensions
        .iter()
        .filter_map(|d| input.dimension_scores.get(d.id()).map(|s| (d.id(), *s)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((dimension, score)) = weakest {
        let weakness = ((100.0 - score) / 100.0).clamp(0.0, 1.0);
        weight += WEAK_DIMENSION_WEIGHT * weakness;
        reasons.push(format!("recent {dimension} score {score:.1}"));
    }
    for task in input.open_tasks {
        let has_dimension = scenario.dimensions.iter().any(|d| d.id() == task.dimension);
        match task.scenario_id.as_deref() {
            Some(id) if id == scenario.id => {
                weight += TASK_SCENARIO_WEIGHT;
                reasons.push(format!("open training task {}", task.id));
            }
            None if has_dimension => {
                weight += TASK_DIMENSION_WEIGHT;
                reasons.push(format!(
                    "open training task {} on {}",
                    task.id, task.dimension
                ));
            }
            _ => {}
        }
    }
    Candidate {
        scenario_id: scenario.id.clone(),
        weight,
        reasons,
    }
}

/// Returns a number in [0, 1) and a second 64-bit number, both from the
/// SHA-256 of `rep_id`, a newline and the ISO date.
fn seed_numbers(rep_id: &str, date: Date) -> (f64, u64) {
    let iso = crate::store::date_text(date);
    let digest = Sha256::digest(format!("{rep_id}\n{iso}").as_bytes());
    let first = u64::from_be_bytes(digest[0..8].try_into().unwrap_or([0; 8]));
    let second = u64::from_be_bytes(digest[8..16].try_into().unwrap_or([0; 8]));
    // The top 53 bits fill an f64 mantissa exactly, so the value stays below 1.
    let unit = (first >> 11) as f64 / (1u64 << 53) as f64;
    (unit, second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::LatencyBand;
    use crate::skill::Dimension;
    use time::macros::date;

    fn scenario(id: &str, dimension: Dimension) -> Scenario {
        Scenario {
            id: id.into(),
            title_en: id.into(),
            title_zh: id.into(),
            dimensions: vec![dimension],
            triggers: Vec::new(),
            latency: LatencyBand {
                min_ms: 300,
                max_ms: 2500,
                top_seller_ms: 900,
            },
            strategies: Vec::new(),
        }
    }

    fn corpus() -> Vec<Scenario> {
        vec![
            scenario("alpha", Dimension::Closing),
            scenario("bravo", Dimension::ObjectionHandling),
            scenario("charlie", Dimension::NeedsDiscovery),
        ]
    }

    fn draw(rep: &str, day: Date, history: &[DailyDraw], scores: &BTreeMap<String, f64>) -> Draw {
        let owned = corpus();
        let scenarios: Vec<&Scenario> = owned.iter().collect();
        let input = DrawInput {
            rep_id: rep,
            date: day,
            scenarios: &scenarios,
            dimension_scores: scores,
            open_tasks: &[],
            history,
        };
        draw_scenario(&input).expect("corpus is not empty")
    }

    #[test]
    fn same_rep_and_day_repeat() {
        let scores = BTreeMap::new();

        let first = draw("user_a", date!(2025 - 03 - 04), &[], &scores);
        let second = draw("user_a", date!(2025 - 03 - 04), &[], &scores);

        assert_eq!(first, second);
    }

    #[test]
    fn seen_scenarios_wait_for_round() {
        let scores = BTreeMap::new();
        let history = vec![
            DailyDraw {
                date: date!(2025 - 03 - 01),
                scenario_ids: vec!["alpha".into()],
            },
            DailyDraw {
                date: date!(2025 - 03 - 02),
                scenario_ids: vec!["charlie".into()],
            },
        ];

        for day in 3..=28 {
            let day = Date::from_calendar_date(2025, time::Month::March, day).expect("valid day");
            let result = draw("user_a", day, &history, &scores);

            assert_eq!(result.chosen.scenario_id, "bravo");
            assert_eq!(result.candidates, 1);
        }
    }

    #[test]
    fn full_round_starts_again() {
        let scores = BTreeMap::new();
        let history: Vec<DailyDraw> = ["alpha", "bravo", "charlie"]
            .iter()
            .zip(1u8..)
            .map(|(id, day)| DailyDraw {
                date: Date::from_calendar_date(2025, time::Month::March, day).expect("valid day"),
                scenario_ids: vec![(*id).into()],
            })
            .collect();

        let result = draw("user_a", date!(2025 - 03 - 04), &history, &scores);

        assert_eq!(result.candidates, 3);
    }

    #[test]
    fn weak_dimension_draws_more_often() {
        let scores = BTreeMap::from([
            ("objection_handling".to_string(), 10.0),
            ("closing".to_string(), 95.0),
            ("needs_discovery".to_string(), 95.0),
        ]);

        let weak_picks = (1..=200)
            .filter(|n| {
                draw(&format!("user_{n}"), date!(2025 - 03 - 04), &[], &scores)
                    .chosen
                    .scenario_id
                    == "bravo"
            })
            .count();

        // Weights 3.7 against 1.15 and 1.15: about 62% of reps draw bravo.
        assert!(weak_picks > 90, "bravo drawn {weak_picks} of 200 times");
    }

    #[test]
    fn open_task_adds_weight() {
        let owned = corpus();
        let scenarios: Vec<&Scenario> = owned.iter().collect();
        let task = TrainingTask {
            id: crate::store::TrainingTaskId::generate(),
            rep_id: crate::store::UserId::generate(),
            dimension: "closing".into(),
            scenario_id: Some("alpha".into()),
            reason: "weak closing".into(),
            status: crate::store::training::TaskStatus::Open,
            assigned_by: None,
            assigned_at: crate::store::now(),
            due_at: None,
            closed_at: None,
        };
        let scores = BTreeMap::new();
        let tasks = [task];
        let input = DrawInput {
            rep_id: "user_a",
            date: date!(2025 - 03 - 04),
            scenarios: &scenarios,
            dimension_scores: &scores,
            open_tasks: &tasks,
            history: &[],
        };

        let candidate = weigh(&owned[0], &input);

        assert!((candidate.weight - (BASE_WEIGHT + TASK_SCENARIO_WEIGHT)).abs() < 1e-9);
        assert_eq!(candidate.reasons.len(), 1);
    }

    #[test]
    fn seed_unit_stays_below_one() {
        for n in 0..100 {
            let (unit, _) = seed_numbers(&format!("rep{n}"), date!(2025 - 01 - 01));

            assert!((0.0..1.0).contains(&unit));
        }
    }
}
