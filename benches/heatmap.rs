//! Heatmap for 500 reps by 7 dimensions over 30 days: aggregation of 35,000
//! samples (10 per cell), SVG rendering and PNG rendering.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use callcoach::heatmap::{
    aggregate, png::PngRenderer, svg, HeatmapConfig, Rep, ScoreSample, Source,
};
use criterion::{criterion_group, criterion_main, Criterion};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2025-04-01 00:00 UTC);
const REPS: usize = 500;
const SAMPLES_PER_CELL: usize = 10;

/// Builds reps in 20 teams (every 25th a top seller) and deterministic
/// scores spread over the 30-day window. Every 9th rep has only two samples
/// in closing, so some cells are insufficient.
fn fixture() -> (Vec<Rep>, Vec<ScoreSample>) {
    let config = HeatmapConfig::default();
    let reps: Vec<Rep> = (0..REPS)
        .map(|i| Rep {
            id: format!("rep-{i:03}"),
            name: if i % 2 == 0 {
                format!("销售 {i}")
            } else {
                format!("Rep {i}")
            },
            team: format!("team-{}", i % 20),
            top_seller: i % 25 == 0,
        })
        .collect();
    let mut samples = Vec::with_capacity(REPS * config.dimensions.len() * SAMPLES_PER_CELL);
    for (i, rep) in reps.iter().enumerate() {
        for (j, spec) in config.dimensions.specs().iter().enumerate() {
            let count = if i % 9 == 0 && spec.id == "closing" {
                2
            } else {
                SAMPLES_PER_CELL
            };
            for k in 0..count {
                samples.push(ScoreSample {
                    rep_id: rep.id.clone(),
                    scenario_id: format!("scenario-{}", k % 5),
                    dimensions: vec![spec.id.clone()],
                    source: if k % 3 == 0 {
                        Source::Call
                    } else {
                        Source::Drill
                    },
                    score: ((i * 7 + j * 13 + k * 17) % 101) as f64,
                    at: NOW - Duration::hours((k * 70 + 1) as i64),
                    call_id: None,
                    attempt_id: None,
                });
            }
        }
    }
    (reps, samples)
}

fn heatmap_benches(c: &mut Criterion) {
    let (reps, samples) = fixture();
    let config = HeatmapConfig::default();
    let map = aggregate(&reps, &samples, NOW, &config).expect("valid fixture");
    let svg_text = svg::render(&map);
    let renderer = PngRenderer::new();

    c.bench_function("aggregate 500x7, 35k samples", |b| {
        b.iter(|| aggregate(&reps, &samples, NOW, &config).expect("valid fixture"))
    });
    c.bench_function("svg 500x7", |b| b.iter(|| svg::render(&map)));
    let mut slow = c.benchmark_group("png");
    slow.sample_size(10);
    slow.bench_function("png 500x7", |b| {
        b.iter(|| renderer.render_svg(&svg_text).expect("renders"))
    });
    slow.finish();
}

criterion_group!(benches, heatmap_benches);
criterion_main!(benches);
