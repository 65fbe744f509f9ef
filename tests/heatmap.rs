//! Heatmap aggregation edge cases and the SVG, PNG and XLSX files it renders.

use std::io::{Cursor, Read};

use callcoach::heatmap::{
    aggregate, png::PngRenderer, svg, xlsx, CellStatus, Heatmap, HeatmapConfig, Rep, ScoreSample,
    Source,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2025-04-01 00:00 UTC);

fn rep(id: &str, name: &str, team: &str, top_seller: bool) -> Rep {
    Rep {
        id: id.into(),
        name: name.into(),
        team: team.into(),
        top_seller,
    }
}

fn sample(
    rep_id: &str,
    dimension: &str,
    score: f64,
    source: Source,
    at: OffsetDateTime,
) -> ScoreSample {
    ScoreSample {
        rep_id: rep_id.into(),
        scenario_id: "price_objection".into(),
        dimensions: vec![dimension.into()],
        source,
        score,
        at,
        call_id: (source == Source::Call).then(|| "call-1".to_string()),
        attempt_id: (source == Source::Drill).then(|| "attempt-1".to_string()),
    }
}

fn drills(rep_id: &str, dimension: &str, scores: &[f64]) -> Vec<ScoreSample> {
    scores
        .iter()
        .enumerate()
        .map(|(i, score)| {
            sample(
                rep_id,
                dimension,
                *score,
                Source::Drill,
                NOW - Duration::days(i as i64 + 1),
            )
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Three reps in two teams; the top seller and 王小明 are measured in two
/// dimensions, Ana has one sample only.
fn team_heatmap() -> Heatmap {
    let reps = [
        rep("top", "Grace Top", "east", true),
        rep("wang", "王小明 <East & Co>", "east", false),
        rep("ana", "Ana", "west", false),
    ];
    let mut samples = drills("top", "value_statement", &[90.0, 85.0, 80.0]);
    samples.extend(drills("top", "closing", &[80.0, 80.0, 80.0]));
    samples.extend(drills("wang", "value_statement", &[50.0, 60.0, 70.0]));
    samples.extend(drills("wang", "closing", &[40.0, 45.0, 50.0, 55.0]));
    samples.extend(drills("ana", "closing", &[99.0]));
    aggregate(&reps, &samples, NOW, &HeatmapConfig::default()).expect("valid input")
}

#[test]
fn no_data_gives_insufficient_cells() {
    let reps = [rep("a", "A", "t", false)];

    let map = aggregate(&reps, &[], NOW, &HeatmapConfig::default()).expect("valid input");

    assert_eq!(map.cells.len(), 7);
    assert!(map
        .cells
        .iter()
        .all(|c| c.status == CellStatus::Insufficient));
    assert!(map
        .cells
        .iter()
        .all(|c| c.score.is_none() && c.samples == 0));
    assert!(map.baselines.iter().all(Option::is_none));
}

#[test]
fn no_reps_gives_empty_grid() {
    let map = aggregate(&[], &[], NOW, &HeatmapConfig::default()).expect("valid input");

    assert!(map.cells.is_empty());
    // Margins, title, header and legend only: 16 + 30 + 62 + 64 + 16.
    assert_eq!(svg::size(&map).1, 188);
}

#[test]
fn one_sample_is_insufficient_not_zero() {
    let reps = [rep("a", "A", "t", false)];
    let samples = drills("a", "closing", &[88.0]);

    let map = aggregate(&reps, &samples, NOW, &HeatmapConfig::default()).expect("valid input");
    let cell = map.cell("a", "closing").expect("cell exists");

    assert_eq!(cell.status, CellStatus::Insufficient);
    assert_eq!(cell.samples, 1);
    assert_eq!(cell.score, None);
    assert_eq!(cell.gap, None);
}

#[test]
fn window_start_counts_and_end_does_not() {
    let reps = [rep("a", "A", "t", false)];
    let mut samples = drills("a", "closing", &[60.0, 60.0]);
    samples.push(sample(
        "a",
        "closing",
        90.0,
        Source::Drill,
        NOW - Duration::days(30),
    ));
    samples.push(sample(
        "a",
        "closing",
        0.0,
        Source::Drill,
        NOW - Duration::days(30) - Duration::seconds(1),
    ));
    samples.push(sample("a", "closing", 0.0, Source::Drill, NOW));

    let map = aggregate(&reps, &samples, NOW, &HeatmapConfig::default()).expect("valid input");
    let cell = map.cell("a", "closing").expect("cell exists");

    assert_eq!(cell.samples, 3);
    assert!(
        close(cell.score.expect("measured"), 70.0),
        "{:?}",
        cell.score
    );
    assert_eq!(map.window.start, NOW - Duration::days(30));
}

#[test]
fn calls_weigh_double_in_mean() {
    let reps = [rep("a", "A", "t", false)];
    let mut samples = drills("a", "closing", &[50.0, 50.0]);
    samples.push(sample(
        "a",
        "closing",
        80.0,
        Source::Call,
        NOW - Duration::hours(2),
    ));

    let map = aggregate(&reps, &samples, NOW, &HeatmapConfig::default()).expect("valid input");
    let cell = map.cell("a", "closing").expect("cell exists");

    assert!(
        close(cell.score.expect("measured"), 65.0),
        "{:?}",
        cell.score
    );
    assert_eq!(cell.call_samples, 1);
}

#[test]
fn minimum_samples_is_configurable() {
    let reps = [rep("a", "A", "t", false)];
    let samples = drills("a", "closing", &[88.0]);
    let config = HeatmapConfig {
        min_samples: 1,
        ..HeatmapConfig::default()
    };

    let map = aggregate(&reps, &samples, NOW, &config).expect("valid input");

    assert_eq!(
        map.cell("a", "closing").expect("cell").status,
        CellStatus::Measured
    );
}

#[test]
fn baseline_median_and_gap() {
    let map = team_heatmap();
    let wang = map.cell("wang", "value_statement").expect("cell");

    assert!(close(
        map.baseline("value_statement").expect("baseline"),
        85.0
    ));
    assert!(close(wang.score.expect("measured"), 60.0));
    assert!(close(wang.gap.expect("gap"), 25.0));
    // East has the top seller (85) and wang (60) measured: median 72.5.
    assert!(close(wang.team_median.expect("median"), 72.5));
    assert_eq!(
        map.cell("ana", "closing").expect("cell").status,
        CellStatus::Insufficient
    );
}

#[test]
fn invalid_score_is_rejected() {
    let reps = [rep("a", "A", "t", false)];
    let samples = [sample(
        "a",
        "closing",
        f64::NAN,
        Source::Drill,
        NOW - Duration::days(1),
    )];

    let err = aggregate(&reps, &samples, NOW, &HeatmapConfig::default()).unwrap_err();

    assert!(err.to_string().contains("not in 0-100"), "{err}");
}

#[test]
fn json_marks_insufficient_cells() {
    let map = team_heatmap();

    let json = serde_json::to_value(&map).expect("serialises");

    let cells = json["cells"].as_array().expect("cells array");
    assert_eq!(cells.len(), 21);
    assert_eq!(cells[14]["status"], "insufficient");
    assert!(cells[14]["score"].is_null());
    assert_eq!(json["dimensions"][0]["label_zh"], "需求挖掘");
}

#[test]
fn svg_parses_and_escapes_names() {
    let map = team_heatmap();

    let text = svg::render(&map);

    let mut reader = quick_xml::Reader::from_str(&text);
    let mut texts = Vec::new();
    let mut rects = 0;
    loop {
        match reader.read_event().expect("SVG is well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Empty(e) if e.name().as_ref() == b"rect" => rects += 1,
            quick_xml::events::Event::Text(t) => {
                texts.push(t.unescape().expect("valid text").into_owned())
            }
            _ => {}
        }
    }
    assert!(rects >= 21, "{rects} rects");
    assert!(texts.iter().any(|t| t == "王小明 <East & Co>"));
    assert!(texts.iter().any(|t| t == "需求挖掘"));
    assert!(texts.iter().any(|t| t.contains("样本不足")));
    assert!(texts.iter().any(|t| t == "n=3 · gap +25"));
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (width, height)
}

#[test]
fn png_matches_svg_size() {
    let map = team_heatmap();
    let renderer = PngRenderer::new();

    let png = renderer.render(&map).expect("renders");
    let double = renderer
        .clone()
        .with_scale(2.0)
        .expect("valid scale")
        .render(&map)
        .expect("renders");

    let (width, height) = svg::size(&map);
    assert_eq!(png_size(&png), (width, height));
    assert_eq!(png_size(&double), (2 * width, 2 * height));
    assert!(renderer.font_faces() > 0);
}

#[test]
fn xlsx_contains_grid_values() {
    let map = team_heatmap();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("heatmap.xlsx");

    xlsx::write(&map, &path).expect("writes");

    let bytes = std::fs::read(&path).expect("file exists");
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("XLSX is a zip");
    let mut sheet = String::new();
    archive
        .by_name("xl/worksheets/sheet1.xml")
        .expect("grid sheet present")
        .read_to_string(&mut sheet)
        .expect("UTF-8 XML");
    let mut strings = String::new();
    archive
        .by_name("xl/sharedStrings.xml")
        .expect("shared strings present")
        .read_to_string(&mut strings)
        .expect("UTF-8 XML");
    assert!(
        sheet.contains("<v>85</v>"),
        "top seller value statement mean"
    );
    assert!(sheet.contains("<v>60</v>"), "wang value statement mean");
    assert!(sheet.contains("colorScale"), "conditional colour scale");
    assert!(strings.contains("insufficient"));
    assert!(strings.contains("需求挖掘"));
    assert!(
        archive.by_name("xl/worksheets/sheet2.xml").is_ok(),
        "raw cell sheet present"
    );
}

#[test]
fn xlsx_write_to_missing_directory_fails() {
    let map = team_heatmap();

    let err = xlsx::write(&map, std::path::Path::new("/nonexistent/dir/heatmap.xlsx")).unwrap_err();

    assert!(
        err.to_string().contains("/nonexistent/dir/heatmap.xlsx"),
        "{err}"
    );
}
