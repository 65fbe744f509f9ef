//! End-to-end test of the web pages: `tests/e2e/run.sh` starts the service
//! on loopback and drives the drill, coach and manager pages in headless
//! Chromium with a fake microphone that plays a synthesised answer.
//!
//! The test skips with a printed line when the Whisper model is missing
//! (`make model`) or when Chromium is missing and cannot be installed.

use std::path::Path;
use std::process::Command;

/// Exit status of `run.sh` when a requirement is missing.
const SKIPPED: i32 = 77;

#[test]
fn drill_page_scores_spoken_answer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("models/ggml-tiny.en.bin");
    if !model.is_file() {
        println!("skipped: {} is missing; run `make model`", model.display());
        return;
    }

    let status = Command::new("bash")
        .arg(root.join("tests/e2e/run.sh"))
        .env("CALLCOACH_BIN", env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(root)
        .status()
        .expect("bash runs tests/e2e/run.sh");

    match status.code() {
        Some(0) => {}
        Some(SKIPPED) => println!("skipped: tests/e2e/run.sh printed the reason above"),
        code => panic!("tests/e2e/run.sh failed with exit status {code:?}; see its output above"),
    }
}
