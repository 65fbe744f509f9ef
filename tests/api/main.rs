//! HTTP API tests: each test starts the real service on port 0 with a
//! temporary data directory and index, and calls it over loopback with
//! reqwest. Tests that transcribe need `models/ggml-tiny.en.bin` and print
//! a skip line naming `make model` when it is missing.

#[path = "../common/mod.rs"]
mod common;

mod audio;
mod auth;
mod calls;
mod checkpoints;
mod drills;
mod errors;
mod health;
mod heatmaps;
mod helpers;
mod jobs;
mod overrides;
mod permissions;
mod reviews;
mod rules;
mod scenarios;
mod training;
