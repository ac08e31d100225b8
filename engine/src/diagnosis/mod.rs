//! The genie's diagnosis: from a compact summary of a cluster ([`inputs`]) to a health
//! score, insights and prioritised recommendations, by the deterministic [`rules`] engine
//! (the seed's rules, then [`enrich`]) or by any OpenAI-compatible chat endpoint ([`llm`],
//! with the versioned [`prompt`]), falling back to the rules engine when the LLM fails
//! ([`diagnoser`]). [`gather`] turns a health check and metric series into inputs. Recording the diagnosis and implementing its recommendations are
//! commands ([`crate::commands::diagnoses`]).

pub mod advice;
pub mod diagnoser;
pub mod enrich;
pub mod gather;
pub mod inputs;
pub mod llm;
pub mod prompt;
pub mod rules;
pub mod view;

pub use advice::{Advice, Draft};
pub use diagnoser::{DiagnoseError, Diagnoser};
pub use inputs::{digest, DiagnosisInputs};
pub use llm::{LlmClient, LlmConfig, LlmFailure};
pub use prompt::PROMPT_VERSION;
pub use view::DiagnosisView;
