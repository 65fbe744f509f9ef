//! `callcoach heatmap` on a seeded store: a team of two reps, one with
//! three value-statement drills (scores 70, 80, 90) and one with none, so
//! the second rep's row is insufficient in every column.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use callcoach::language::Language;
use callcoach::store::drills::NewDrillAttempt;
use callcoach::store::scores::NewScoreSample;
use callcoach::store::users::{NewUser, Role, User};
use callcoach::store::{now, Score, Store, StoreConfig, TeamId};

/// Columns in config/dimensions.toml.
const DIMENSIONS: usize = 7;
const TOLERANCE: f64 = 1e-6;

struct Seeded {
    dir: tempfile::TempDir,
    team: TeamId,
    measured: User,
    unmeasured: User,
}

async fn create_rep(store: &Store, team: &TeamId, name: &str) -> User {
    let new = NewUser {
        team_id: Some(team.clone()),
        email: format!("{}@example.com", name.to_lowercase()),
        display_name: name.to_string(),
        role: Role::Rep,
    };
    store.create_user(&new).await.expect("rep")
}

async fn add_drill(store: &Store, rep: &User, value: f64) {
    let attempt = NewDrillAttempt {
        rep_id: rep.id.clone(),
        scenario_id: "price_objection".to_string(),
        drill_date: now().date(),
        language: Language::En,
        audio_sha256: None,
    };
    let attempt = store.create_drill_attempt(&attempt).await.expect("attempt");
    let score = Score::new(value).expect("score in 0-100");
    let sample = NewScoreSample {
        scenario_id: "price_objection".to_string(),
        dimension: "value_statement".to_string(),
        score,
    };
    store
        .record_drill_result(&attempt.id, &serde_json::json!({}), score, &[sample])
        .await
        .expect("drill result");
}

async fn seed() -> Seeded {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = StoreConfig {
        data_dir: dir.path().join("data"),
        database_url: None,
        max_connections: None,
    };
    let store = Store::open(&config).await.expect("open SQLite store");
    let team = store.create_team("Mid-market").await.expect("team").id;
    let measured = create_rep(&store, &team, "Ana").await;
    let unmeasured = create_rep(&store, &team, "Bo").await;
    for value in [70.0, 80.0, 90.0] {
        add_drill(&store, &measured, value).await;
    }
    store.close().await;
    Seeded {
        dir,
        team,
        measured,
        unmeasured,
    }
}

fn run_heatmap(seeded: &Seeded, team: &str, format: &str, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CALLCOACH_DATABASE_URL")
        .args(["heatmap", "--team", team, "--format", format, "--out"])
        .arg(out)
        .arg("--data")
        .arg(seeded.dir.path().join("data"))
        .output()
        .expect("run callcoach")
}

/// Runs the command, checks that it printed the path and returns the file.
fn render(seeded: &Seeded, format: &str) -> Vec<u8> {
    let out: PathBuf = seeded.dir.path().join(format!("heatmap.{format}"));

    let output = run_heatmap(seeded, seeded.team.as_str(), format, &out);

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "callcoach failed: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.trim(), out.display().to_string());
    std::fs::read(&out).expect("read the written file")
}

/// Returns the `width` and `height` attributes of the SVG root element.
fn svg_size(svg: &str) -> (f64, f64) {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut size = None;
    loop {
        match reader.read_event().expect("well-formed SVG") {
            quick_xml::events::Event::Start(element) if element.name().as_ref() == b"svg" => {
                let attribute = |name: &[u8]| -> f64 {
                    let value = element
                        .try_get_attribute(name)
                        .expect("valid attribute")
                        .expect("attribute present");
                    let text = String::from_utf8_lossy(&value.value).to_string();
                    text.parse().expect("numeric size")
                };
                size = Some((attribute(b"width"), attribute(b"height")));
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    size.expect("svg root element")
}

#[tokio::test]
async fn png_ihdr_matches_svg_size() {
    let seeded = seed().await;

    let png = render(&seeded, "png");
    let svg = String::from_utf8(render(&seeded, "svg")).expect("UTF-8 SVG");

    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().expect("4 bytes"));
    let height = u32::from_be_bytes(png[20..24].try_into().expect("4 bytes"));
    let (svg_width, svg_height) = svg_size(&svg);
    assert_eq!(f64::from(width), svg_width.ceil());
    assert_eq!(f64::from(height), svg_height.ceil());
    assert!(svg.contains("Ana"));
}

#[tokio::test]
async fn xlsx_contains_first_worksheet() {
    let seeded = seed().await;

    let bytes = render(&seeded, "xlsx");

    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip archive");
    assert!(archive.by_name("xl/worksheets/sheet1.xml").is_ok());
}

#[tokio::test]
async fn json_lists_reps_and_insufficient_cells() {
    let seeded = seed().await;

    let heatmap: serde_json::Value =
        serde_json::from_slice(&render(&seeded, "json")).expect("JSON heatmap");

    let reps = heatmap["reps"].as_array().expect("rep list");
    assert_eq!(reps.len(), 2);
    let cells = heatmap["cells"].as_array().expect("cell list");
    assert_eq!(cells.len(), 2 * DIMENSIONS);
    let of_rep = |rep: &User| -> Vec<&serde_json::Value> {
        cells
            .iter()
            .filter(|c| c["rep_id"] == rep.id.as_str())
            .collect()
    };
    let unmeasured = of_rep(&seeded.unmeasured);
    assert_eq!(unmeasured.len(), DIMENSIONS);
    assert!(unmeasured.iter().all(|c| c["status"] == "insufficient"));
    let measured = of_rep(&seeded.measured);
    let value = measured
        .iter()
        .find(|c| c["dimension"] == "value_statement")
        .expect("value statement cell");
    assert_eq!(value["status"], "measured");
    assert!((value["score"].as_f64().expect("score") - 80.0).abs() < TOLERANCE);
    let insufficient = measured.iter().filter(|c| c["status"] == "insufficient");
    assert_eq!(insufficient.count(), DIMENSIONS - 1);
}

#[tokio::test]
async fn json_to_stdout_with_dash() {
    let seeded = seed().await;

    let output = run_heatmap(&seeded, seeded.team.as_str(), "json", Path::new("-"));

    assert!(output.status.success());
    let heatmap: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(heatmap["reps"].as_array().expect("rep list").len(), 2);
}

#[tokio::test]
async fn unknown_team_fails_clearly() {
    let seeded = seed().await;
    let out = seeded.dir.path().join("unknown.png");
    let team = TeamId::generate();

    let output = run_heatmap(&seeded, team.as_str(), "png", &out);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("team {team} not found")),
        "stderr: {stderr}"
    );
    assert!(!out.exists());
}
