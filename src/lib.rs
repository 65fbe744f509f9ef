//! callcoach: local speech transcription, a bilingual scenario knowledge
//! base, scored drills and real calls, skill heatmaps and unlock rules.
//!
//! Data flows through the modules in this order: [`audio`] decodes a
//! recording, [`transcribe`] turns it into timed text, [`knowledge`] holds
//! the top-seller scenarios, [`scoring`] compares an answer with them, and
//! the later modules aggregate scores for coaches and managers.

pub mod audio;
pub mod call;
pub mod checkpoint;
pub mod cli;
pub mod coach;
pub mod config;
pub mod drill;
pub mod heatmap;
pub mod http;
pub mod knowledge;
pub mod language;
pub mod model;
pub mod review;
pub mod scoring;
pub mod service;
pub mod skill;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod training;
pub mod training_store;
pub mod transcribe;
pub mod unlock;
pub mod worker;
