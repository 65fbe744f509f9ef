//! Decoding, resampling and voice activity detection on generated fixtures
//! (see `tests/fixtures/generate.sh`) and, when present, on the real-recording
//! corpus named by `CALLCOACH_CORPUS_CANDIDATES`.

mod common;

use std::path::Path;

use callcoach::audio::vad::{detect_speech, SpeechRegion, VadConfig};
use callcoach::audio::{decode_bytes, decode_file, Audio, DecodeLimits, Error};
use common::{corpus_candidates, fixture, fixture_timing};

/// Tolerance on detected speech boundaries, in ms.
const BOUNDARY_TOLERANCE_MS: u64 = 50;

fn decode(name: &str) -> Audio {
    decode_file(&fixture(name), &DecodeLimits::default())
        .unwrap_or_else(|err| panic!("decoding {name}: {err}"))
}

fn decode_error(name: &str) -> Error {
    match decode_file(&fixture(name), &DecodeLimits::default()) {
        Ok(audio) => panic!(
            "{name} decoded to {} ms, expected an error",
            audio.duration_ms()
        ),
        Err(err) => err,
    }
}

fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt()
}

/// Estimates the frequency of a pure tone from its zero crossings over the middle second.
fn tone_frequency_hz(samples: &[f32]) -> f32 {
    let middle = &samples[samples.len() / 4..samples.len() / 4 + 16_000.min(samples.len() / 2)];
    let crossings = middle
        .windows(2)
        .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
        .count();
    crossings as f32 / 2.0 / (middle.len() as f32 / 16_000.0)
}

fn assert_tone(name: &str, channel: &[f32], freq_hz: f32) {
    let measured = tone_frequency_hz(channel);
    assert!(
        (measured - freq_hz).abs() < 10.0,
        "{name}: tone at {measured} Hz, expected {freq_hz}"
    );
    let level = rms(&channel[channel.len() / 4..channel.len() * 3 / 4]);
    assert!(
        (level - 0.3536).abs() < 0.03,
        "{name}: rms {level}, expected 0.354"
    );
}

#[test]
fn every_format_decodes_tone() {
    // name, codec, source rate, duration tolerance in ms (lossy codecs add padding)
    let cases = [
        ("pcm_u8_8k.wav", "pcm_u8", 8000, 1),
        ("pcm_s16_11k.wav", "pcm_s16le", 11025, 1),
        ("pcm_s24_22k.wav", "pcm_s24le", 22050, 1),
        ("pcm_s32_44k.wav", "pcm_s32le", 44100, 1),
        ("pcm_s16_16k.wav", "pcm_s16le", 16000, 1),
        ("float32_48k.wav", "pcm_f32le", 48000, 1),
        ("float64_16k.wav", "pcm_f64le", 16000, 1),
        ("mulaw_8k.wav", "pcm_mulaw", 8000, 1),
        ("alaw_8k.wav", "pcm_alaw", 8000, 1),
        ("ima_adpcm_8k.wav", "adpcm_ima_wav", 8000, 70),
        ("flac_s16_44k.flac", "flac", 44100, 1),
        ("flac_s24_48k.flac", "flac", 48000, 1),
        ("vorbis_48k.ogg", "vorbis", 48000, 30),
        ("mp3_44k.mp3", "mp3", 44100, 80),
        ("aac_22k.m4a", "aac", 22050, 100),
        ("flac_named_wav.wav", "flac", 44100, 1),
        ("extensible_s16.wav", "pcm_s16le", 16000, 1),
        ("list_odd_before_data.wav", "pcm_s16le", 16000, 1),
        ("junk_first_cue_after.wav", "pcm_s16le", 16000, 1),
        ("fmt18_fact.wav", "pcm_s16le", 16000, 1),
        ("partial_frame.wav", "pcm_s16le", 16000, 1),
        ("streaming_size.wav", "pcm_s16le", 16000, 1),
    ];
    for (name, codec, rate_hz, tolerance_ms) in cases {
        assert_eq!(fixture_timing(name), "tone=1000", "{name} manifest");

        let audio = decode(name);

        assert_eq!(audio.source().codec, codec, "{name} codec");
        assert_eq!(audio.source().sample_rate_hz, rate_hz, "{name} rate");
        assert_eq!(audio.channel_count(), 1, "{name} channels");
        assert!(!audio.source().truncated, "{name} marked truncated");
        assert!(
            audio.duration_ms().abs_diff(2000) <= tolerance_ms,
            "{name}: {} ms",
            audio.duration_ms()
        );
        assert_tone(name, &audio.mono(), 1000.0);
    }
}

#[test]
fn stereo_keeps_both_channels() {
    for name in [
        "stereo_s16_44k.wav",
        "stereo_flac_48k.flac",
        "stereo_mulaw_8k.wav",
    ] {
        let audio = decode(name);

        assert_eq!(audio.channel_count(), 2, "{name}");
        assert_tone(name, audio.channel(0).expect("left channel"), 440.0);
        assert_tone(name, audio.channel(1).expect("right channel"), 1000.0);
        assert!(audio.channel(2).is_none(), "{name} has a third channel");
        assert_eq!(
            audio.mono().len(),
            audio.channel(0).map_or(0, <[f32]>::len),
            "{name} mixdown"
        );
    }
}

#[test]
fn mulaw_and_alaw_match_pcm() {
    let reference = decode("pcm_u8_8k.wav").mono();
    for name in ["mulaw_8k.wav", "alaw_8k.wav"] {
        let decoded = decode(name).mono();

        let error: Vec<f32> = decoded.iter().zip(&reference).map(|(a, b)| a - b).collect();
        assert!(
            rms(&error) < 0.01,
            "{name} differs from PCM by rms {}",
            rms(&error)
        );
    }
}

#[test]
fn truncated_wav_decodes_present_part() {
    let audio = decode("truncated.wav");

    assert!(audio.source().truncated);
    // 1001 bytes of 16-bit mono at 16 kHz are 31 ms.
    assert!(
        audio.duration_ms().abs_diff(1969) <= 1,
        "{} ms",
        audio.duration_ms()
    );
}

#[test]
fn bytes_decode_like_files() {
    let bytes = std::fs::read(fixture("vorbis_48k.ogg")).expect("fixture is readable");

    let audio =
        decode_bytes(&bytes, Some("mp3"), &DecodeLimits::default()).expect("decoding bytes");

    assert_eq!(audio.source().container, "ogg");
    assert_tone("vorbis bytes", &audio.mono(), 1000.0);
}

#[test]
fn bad_inputs_are_rejected() {
    assert!(matches!(decode_error("zero_samples.wav"), Error::NoSamples));
    assert!(matches!(
        decode_error("too_short_50ms.wav"),
        Error::TooShort {
            duration_ms: 50,
            min_ms: 100
        }
    ));
    assert!(matches!(
        decode_error("rate_96k.wav"),
        Error::UnsupportedSampleRate { rate_hz: 96_000 }
    ));
    assert!(matches!(
        decode_error("rate_4k.wav"),
        Error::UnsupportedSampleRate { rate_hz: 4000 }
    ));
    assert!(matches!(
        decode_error("channels_10.wav"),
        Error::UnsupportedChannels { channels: 10 }
    ));
    assert!(matches!(decode_error("no_fmt.wav"), Error::Corrupt { .. }));
    assert!(matches!(
        decode_error("corrupt.flac"),
        Error::Corrupt { .. } | Error::NoSamples
    ));
}

#[test]
fn rejection_messages_name_value() {
    let gsm = decode_error("gsm_8k.wav").to_string();
    let csv = decode_error("not_audio.csv").to_string();
    let rate = decode_error("rate_96k.wav").to_string();

    assert!(gsm.contains("0x0031"), "{gsm}");
    assert!(gsm.contains("GSM"), "{gsm}");
    assert!(csv.contains("6e 61 6d 65"), "{csv}");
    assert!(csv.contains("name,pri"), "{csv}");
    assert!(rate.contains("96000 Hz"), "{rate}");
}

#[test]
fn empty_input_is_not_audio() {
    let result = decode_bytes(&[], None, &DecodeLimits::default());

    assert!(matches!(result, Err(Error::NotAudio { .. })), "{result:?}");
}

#[test]
fn maximum_duration_is_enforced() {
    let limits = DecodeLimits {
        max_duration_ms: 1000,
        ..DecodeLimits::default()
    };
    for name in [
        "pcm_s16_16k.wav",
        "flac_s16_44k.flac",
        "mp3_44k.mp3",
        "vorbis_48k.ogg",
    ] {
        let result = decode_file(&fixture(name), &limits);

        let too_long = matches!(
            result,
            Err(Error::TooLong { max_ms: 1000, duration_ms }) if duration_ms > 1000
        );
        assert!(too_long, "{name}: {result:?}");
    }
}

#[test]
fn missing_file_names_path() {
    let result = decode_file(Path::new("/nonexistent/call.wav"), &DecodeLimits::default());

    let message = result.expect_err("a missing file fails").to_string();
    assert!(message.contains("/nonexistent/call.wav"), "{message}");
}

#[test]
fn resampling_keeps_tone_frequency() {
    let audio = decode("pcm_s32_44k.wav");

    assert_eq!(audio.channel(0).map(<[f32]>::len), Some(32_000));
    assert_tone("44.1 kHz tone", &audio.mono(), 1000.0);
}

#[test]
fn resampling_attenuates_band_edge() {
    let near_edge = rms(&decode("tone7500_48k.wav").mono()[2000..14_000]);
    let above_nyquist = rms(&decode("tone12000_48k.wav").mono()[2000..14_000]);

    // Input level is 0.354 rms; 7.5 kHz lies in the filter's transition band.
    assert!(near_edge < 0.354 * 0.71, "7.5 kHz rms {near_edge}");
    assert!(above_nyquist < 0.354 * 1e-3, "12 kHz rms {above_nyquist}");
}

/// Parses `speech=START-END;...` with `/` between channels.
fn expected_regions(name: &str) -> Vec<Vec<SpeechRegion>> {
    let timing = fixture_timing(name);
    timing
        .split('/')
        .map(|channel| {
            channel
                .split(';')
                .filter_map(|part| part.strip_prefix("speech="))
                .filter_map(|range| range.split_once('-'))
                .map(|(start, end)| SpeechRegion {
                    start_ms: start.parse().expect("start ms"),
                    end_ms: end.parse().expect("end ms"),
                })
                .collect()
        })
        .collect()
}

/// Asserts that the detected regions start and end with the expected ones
/// and leave a gap where the expected ones do.
fn assert_regions_match(label: &str, detected: &[SpeechRegion], expected: &[SpeechRegion]) {
    let near = |a: u64, b: u64| a.abs_diff(b) <= BOUNDARY_TOLERANCE_MS;
    eprintln!("{label}: detected {detected:?}, expected {expected:?}");
    let first = detected.first().expect("speech detected");
    let last = detected.last().expect("speech detected");
    assert!(
        near(first.start_ms, expected[0].start_ms),
        "{label}: onset {detected:?} vs {expected:?}"
    );
    let expected_end = expected[expected.len() - 1].end_ms;
    assert!(
        near(last.end_ms, expected_end),
        "{label}: end {detected:?} vs {expected:?}"
    );
    for pair in expected.windows(2) {
        let found = detected
            .windows(2)
            .any(|d| near(d[0].end_ms, pair[0].end_ms) && near(d[1].start_ms, pair[1].start_ms));
        assert!(
            found,
            "{label}: gap {}-{} not in {detected:?}",
            pair[0].end_ms, pair[1].start_ms
        );
    }
}

#[test]
fn vad_finds_constructed_gap() {
    for name in ["vad_gap1200_en.wav", "vad_gap1200_en_noisy_8k.wav"] {
        let expected = expected_regions(name);
        let audio = decode(name);

        let detected = detect_speech(&audio.mono(), &VadConfig::default());

        assert_regions_match(name, &detected, &expected[0]);
    }
}

#[test]
fn vad_works_per_channel() {
    let name = "vad_call_zh_stereo_44k.wav";
    let expected = expected_regions(name);
    let audio = decode(name);

    let detected = callcoach::audio::vad::detect_speech_per_channel(&audio, &VadConfig::default());

    assert_eq!(detected.len(), 2);
    assert_regions_match("customer channel", &detected[0], &expected[0]);
    assert_regions_match("rep channel", &detected[1], &expected[1]);
}

#[test]
fn vad_ignores_tone_free_silence() {
    let silence = vec![0.0f32; 32_000];

    assert!(detect_speech(&silence, &VadConfig::default()).is_empty());
    assert!(detect_speech(&[], &VadConfig::default()).is_empty());
}

// --- Real recordings, when the corpus folder is present.

/// Returns (file name, format column) for each table row of a SOURCE.md.
fn source_rows(folder: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(folder.join("SOURCE.md")).expect("SOURCE.md is readable");
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?;
            let format = cells.get(4)?;
            (name.ends_with(".wav") || name.ends_with(".flac"))
                .then(|| (name.to_string(), format.to_string()))
        })
        .collect()
}

/// Reads rate, channels and seconds from a format cell such as
/// "16000 Hz, 1 ch, 16-bit Signed Integer PCM, 11.00 s, 352078 B".
fn parse_format(cell: &str) -> (u32, usize, f64) {
    let parts: Vec<&str> = cell.split(',').map(str::trim).collect();
    let number = |suffix: &str| {
        parts
            .iter()
            .find_map(|p| p.strip_suffix(suffix))
            .map(str::trim)
    };
    let rate = number(" Hz")
        .and_then(|v| v.parse().ok())
        .expect("rate in format cell");
    let channels = number(" ch")
        .and_then(|v| v.parse().ok())
        .expect("channels in format cell");
    let seconds = number(" s")
        .and_then(|v| v.parse().ok())
        .expect("seconds in format cell");
    (rate, channels, seconds)
}

#[test]
fn corpus_speech_decodes_full_length() {
    let Some(root) = corpus_candidates() else {
        return;
    };
    for language in ["en", "zh"] {
        let folder = root.join(language);
        let rows = source_rows(&folder);
        assert!(!rows.is_empty(), "{language}/SOURCE.md lists no files");
        for (name, format) in rows {
            let (rate_hz, channels, seconds) = parse_format(&format);

            let audio = decode_file(&folder.join(&name), &DecodeLimits::default())
                .unwrap_or_else(|err| panic!("{name}: {err}"));

            assert_eq!(audio.source().sample_rate_hz, rate_hz, "{name}");
            assert_eq!(audio.channel_count(), channels, "{name}");
            // SOURCE.md rounds to 10 ms.
            let expected_ms = (seconds * 1000.0).round() as u64;
            assert!(
                audio.duration_ms().abs_diff(expected_ms) <= 10,
                "{name}: {} ms",
                audio.duration_ms()
            );
        }
    }
}

#[test]
fn corpus_faults_follow_source_notes() {
    let Some(root) = corpus_candidates() else {
        return;
    };
    let faults = root.join("faults");
    let open = |name: &str| decode_file(&faults.join(name), &DecodeLimits::default());
    // name, expected duration in ms, channels, source codec
    let decodable = [
        ("f01_digital_silence_10s_16k.wav", 10_000, 1, "pcm_s16le"),
        ("f02_pinknoise_-50dBFS_10s_16k.wav", 10_000, 1, "pcm_s16le"),
        ("f03_jfk_8k_ulaw_telephone.wav", 11_000, 1, "pcm_mulaw"),
        ("f04_jfk_8k_pcm16.wav", 11_000, 1, "pcm_s16le"),
        ("f05_jfk_16k_pcm24_extensible.wav", 11_000, 1, "pcm_s24le"),
        ("f06_jfk_16k_float32.wav", 11_000, 1, "pcm_f32le"),
        ("f07_jfk_44k1_stereo.wav", 11_000, 2, "pcm_s16le"),
        ("f08_jfk_lead6s_silence.wav", 17_000, 1, "pcm_s16le"),
        ("f09_jfk_clipped_+20dB.wav", 11_000, 1, "pcm_s16le"),
        ("f10_jfk_first0.5s_tooshort.wav", 500, 1, "pcm_s16le"),
        ("f12_jfk_LIST_INFO_before_data.wav", 11_000, 1, "pcm_s16le"),
        (
            "f13_jfk_JUNK_first_and_trailing_chunk.wav",
            11_000,
            1,
            "pcm_s16le",
        ),
        (
            "f14_jfk_truncated_header_overstates_data.wav",
            10_968,
            1,
            "pcm_s16le",
        ),
        (
            "f15_jfk_data_len_not_multiple_of_blockalign.wav",
            10_999,
            1,
            "pcm_s16le",
        ),
    ];
    for (name, duration_ms, channels, codec) in decodable {
        let audio = open(name).unwrap_or_else(|err| panic!("{name}: {err}"));

        assert!(
            audio.duration_ms().abs_diff(duration_ms) <= 1,
            "{name}: {} ms",
            audio.duration_ms()
        );
        assert_eq!(audio.channel_count(), channels, "{name}");
        assert_eq!(audio.source().codec, codec, "{name}");
        assert_eq!(
            audio.source().truncated,
            name.starts_with("f14"),
            "{name} truncated flag"
        );
    }

    assert!(matches!(
        open("f11_empty_0samples.wav"),
        Err(Error::NoSamples)
    ));
    assert!(matches!(
        open("f16_jfk_first50ms_below_100ms_min.wav"),
        Err(Error::TooShort {
            duration_ms: 50,
            min_ms: 100
        })
    ));
}

#[test]
fn corpus_silence_has_no_speech() {
    let Some(root) = corpus_candidates() else {
        return;
    };
    for name in [
        "f01_digital_silence_10s_16k.wav",
        "f02_pinknoise_-50dBFS_10s_16k.wav",
    ] {
        let audio = decode_file(&root.join("faults").join(name), &DecodeLimits::default())
            .unwrap_or_else(|err| panic!("{name}: {err}"));

        let detected = detect_speech(&audio.mono(), &VadConfig::default());

        assert!(detected.is_empty(), "{name}: {detected:?}");
    }
}

#[test]
fn corpus_leading_silence_delays_onset() {
    let Some(root) = corpus_candidates() else {
        return;
    };
    let path = root.join("faults/f08_jfk_lead6s_silence.wav");
    let audio = decode_file(&path, &DecodeLimits::default()).expect("f08 decodes");

    let detected = detect_speech(&audio.mono(), &VadConfig::default());

    let onset = detected.first().map(|r| r.start_ms).expect("speech in f08");
    assert!((6000..6700).contains(&onset), "onset {onset} ms");
}

/// Reads `start=` and `end=` of the line starting with `prefix` in a truth file, in ms.
fn truth_span(text: &str, prefix: &str) -> (u64, u64) {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .expect("truth line");
    let value = |key: &str| -> u64 {
        let seconds: f64 = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .expect("truth value");
        (seconds * 1000.0).round() as u64
    };
    (value("start="), value("end="))
}

#[test]
fn corpus_dialog_latency_boundaries() {
    let Some(root) = corpus_candidates() else {
        return;
    };
    for stem in ["dialog_en_price_gap1200ms", "dialog_zh_price_gap2500ms"] {
        let folder = root.join("tts");
        let truth =
            std::fs::read_to_string(folder.join(format!("{stem}.truth.txt"))).expect("truth file");
        let (_, customer_end) = truth_span(&truth, "customer_channel=L");
        let (rep_start, rep_end) = truth_span(&truth, "rep_channel=R");
        let stereo = decode_file(
            &folder.join(format!("{stem}_stereo16k.wav")),
            &DecodeLimits::default(),
        )
        .expect("stereo dialog decodes");
        let mono = decode_file(
            &folder.join(format!("{stem}_mono8k.wav")),
            &DecodeLimits::default(),
        )
        .expect("mono dialog decodes");
        let config = VadConfig::default();

        let customer = detect_speech(stereo.channel(0).expect("left"), &config);
        let rep = detect_speech(stereo.channel(1).expect("right"), &config);
        let mixed = detect_speech(&mono.mono(), &config);

        let expected_customer = [SpeechRegion {
            start_ms: 0,
            end_ms: customer_end,
        }];
        let expected_rep = [SpeechRegion {
            start_ms: rep_start,
            end_ms: rep_end,
        }];
        let expected_mixed = [expected_customer[0], expected_rep[0]];
        assert_regions_match(&format!("{stem} customer"), &customer, &expected_customer);
        assert_regions_match(&format!("{stem} rep"), &rep, &expected_rep);
        assert_regions_match(&format!("{stem} mono"), &mixed, &expected_mixed);
    }
}
