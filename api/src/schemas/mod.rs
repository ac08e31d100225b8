//! `clustergenie schemas export|check`: the published contracts as files.
//!
//! [`generate`] renders, in memory, one JSON Schema per event type at its current version
//! (`events/<type>.v<version>.json`) and the AsyncAPI document (`asyncapi.yaml`), from
//! [`engine::contract`], and the OpenAPI document of the HTTP API (`openapi.yaml`, see
//! [`openapi`]). The output is deterministic (keys sorted, two-space indent, a trailing
//! newline) so the checked-in files only change when the contracts do.
//!
//! A schema file, once checked in, is a released version: [`export`] refuses to overwrite
//! it with a schema that is not backward compatible (see [`engine::contract::compat`]);
//! such a change needs a new `schema_version` (an upcaster step), which gets a new file
//! and leaves the old one as it is. Files of older versions are never written or removed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use engine::contract::compat::{backward_incompatibilities, Incompatibility};
use engine::contract::{self, file_name, parse_file_name, EventContract};
use serde_json::Value;

use crate::cli::SchemasCommand;

pub mod asyncapi;
pub mod openapi;
mod render;

pub use render::{render_json, render_yaml};

/// The command that regenerates the checked-in files.
pub const EXPORT_HINT: &str = "cargo run -p clustergenie-api -- schemas export";

/// Where the event schemas are, inside the schema directory.
const EVENTS_DIR: &str = "events";

/// The AsyncAPI file, inside the schema directory.
const ASYNCAPI_FILE: &str = "asyncapi.yaml";

/// The OpenAPI file, inside the schema directory.
pub const OPENAPI_FILE: &str = "openapi.yaml";

/// Why the schemas could not be exported or checked.
#[derive(Debug, thiserror::Error)]
pub enum SchemasError {
    #[error("could not {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a JSON Schema document")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("could not render a document as JSON")]
    Render(#[from] serde_json::Error),
    #[error("could not render a document as YAML")]
    Yaml(#[from] serde_norway::Error),
    #[error("{}", render_incompatible(.0))]
    Incompatible(BTreeMap<String, Vec<Incompatibility>>),
}

/// The generated files: path relative to the schema directory -> contents.
pub type Files = BTreeMap<String, String>;

/// Every file of the contract, rendered in memory.
pub fn generate() -> Result<Files, SchemasError> {
    let aggregates = contract::aggregates();
    let mut files = Files::new();
    for event in aggregates.iter().flat_map(|a| &a.events) {
        files.insert(event_path(event), render_json(&event.document())?);
    }
    let document = asyncapi::document(&aggregates, &format!("./{EVENTS_DIR}/"))?;
    files.insert(ASYNCAPI_FILE.to_owned(), render_yaml(&document)?);
    files.insert(OPENAPI_FILE.to_owned(), render_yaml(&openapi::document()?)?);
    Ok(files)
}

fn event_path(event: &EventContract) -> String {
    format!("{EVENTS_DIR}/{}", event.file_name())
}

/// What a `schemas` subcommand has to say, and whether it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// For standard output.
    pub message: String,
    /// `false` when the process should exit with 1.
    pub success: bool,
}

/// Runs `clustergenie schemas export|check`.
pub fn run(command: &SchemasCommand) -> Result<Outcome, SchemasError> {
    match command {
        SchemasCommand::Export(args) => {
            let written = export(&args.dir)?;
            let mut message = format!(
                "{} file(s) written under {}\n",
                written.len(),
                args.dir.display()
            );
            for name in written {
                message.push_str(&format!("  {name}\n"));
            }
            Ok(Outcome {
                message,
                success: true,
            })
        }
        SchemasCommand::Check(args) => {
            let report = check(&args.dir)?;
            Ok(Outcome {
                message: report.to_string(),
                success: report.is_clean(),
            })
        }
    }
}

/// What `check` found; empty when the directory matches the contract.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Files the contract has and the directory lacks (also released older versions).
    pub missing: Vec<String>,
    /// Files whose contents differ from the generated ones.
    pub stale: Vec<String>,
    /// Event schema files that belong to no event type version of the contract.
    pub extra: Vec<String>,
    /// Stale event schemas that are not a backward-compatible change of the checked-in one.
    pub incompatible: BTreeMap<String, Vec<Incompatibility>>,
}

impl CheckReport {
    /// Whether the directory matches the contract.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.stale.is_empty() && self.extra.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return writeln!(f, "the schemas are up to date");
        }
        for (label, files) in [
            ("missing", &self.missing),
            ("stale", &self.stale),
            ("extra", &self.extra),
        ] {
            for file in files {
                writeln!(f, "{label}: {file}")?;
            }
        }
        if !self.incompatible.is_empty() {
            writeln!(f, "{}", render_incompatible(&self.incompatible))?;
        }
        writeln!(f, "run `{EXPORT_HINT}` and commit the result")
    }
}

/// Compares `dir` with the generated contract.
pub fn check(dir: &Path) -> Result<CheckReport, SchemasError> {
    let generated = generate()?;
    let existing = read_existing(dir, &generated)?;
    let mut report = CheckReport::default();
    for (name, contents) in &generated {
        match existing.get(name) {
            None => report.missing.push(name.clone()),
            Some(text) if text != contents => report.stale.push(name.clone()),
            Some(_) => {}
        }
    }
    report.incompatible = incompatibilities(dir, &generated, &existing)?;
    let older = released_older_versions(&generated);
    let on_disk = list_event_files(dir)?;
    report.extra = on_disk
        .iter()
        .filter(|name| !generated.contains_key(*name) && !older.contains(name))
        .cloned()
        .collect();
    report
        .missing
        .extend(older.into_iter().filter(|name| !on_disk.contains(name)));
    Ok(report)
}

/// Writes the generated files that differ into `dir`, and returns their names; fails,
/// writing nothing, when a changed event schema is not backward compatible.
pub fn export(dir: &Path) -> Result<Vec<String>, SchemasError> {
    let generated = generate()?;
    let existing = read_existing(dir, &generated)?;
    let incompatible = incompatibilities(dir, &generated, &existing)?;
    if !incompatible.is_empty() {
        return Err(SchemasError::Incompatible(incompatible));
    }
    let mut written = Vec::new();
    for (name, contents) in &generated {
        if existing.get(name) == Some(contents) {
            continue;
        }
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        std::fs::write(&path, contents).map_err(io_error("write", &path))?;
        written.push(name.clone());
    }
    Ok(written)
}

/// The files of `generated` as they are in `dir` now (those not there are left out).
fn read_existing(dir: &Path, generated: &Files) -> Result<Files, SchemasError> {
    let mut existing = Files::new();
    for name in generated.keys() {
        if let Some(text) = read_optional(&dir.join(name))? {
            existing.insert(name.clone(), text);
        }
    }
    Ok(existing)
}

/// For every generated event schema that `existing` has: the incompatibilities of the
/// generated schema with the existing one (only the files that have some).
fn incompatibilities(
    dir: &Path,
    generated: &Files,
    existing: &Files,
) -> Result<BTreeMap<String, Vec<Incompatibility>>, SchemasError> {
    let mut found = BTreeMap::new();
    for (name, contents) in generated.iter().filter(|(n, _)| n.starts_with(EVENTS_DIR)) {
        let Some(text) = existing.get(name) else {
            continue;
        };
        let path = dir.join(name);
        let changes =
            backward_incompatibilities(&parse_json(&path, text)?, &parse_json(&path, contents)?);
        if !changes.is_empty() {
            found.insert(name.clone(), changes);
        }
    }
    Ok(found)
}

/// `events/<type>.v<n>.json` for every version below the generated (current) one of every
/// event type: released versions, kept as they are.
fn released_older_versions(generated: &Files) -> Vec<String> {
    let current = generated
        .keys()
        .filter_map(|name| name.strip_prefix(&format!("{EVENTS_DIR}/")))
        .filter_map(parse_file_name);
    current
        .flat_map(|(event_type, version)| {
            (1..version).map(move |v| format!("{EVENTS_DIR}/{}", file_name(event_type, v)))
        })
        .collect()
}

/// The files of `dir/events` as `events/<name>` (none when the directory does not exist).
fn list_event_files(dir: &Path) -> Result<Vec<String>, SchemasError> {
    let events = dir.join(EVENTS_DIR);
    let entries = match std::fs::read_dir(&events) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("list", &events)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error("list", &events))?;
        names.push(format!(
            "{EVENTS_DIR}/{}",
            entry.file_name().to_string_lossy()
        ));
    }
    names.sort();
    Ok(names)
}

fn read_optional(path: &Path) -> Result<Option<String>, SchemasError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", path)(e)),
    }
}

fn parse_json(path: &Path, text: &str) -> Result<Value, SchemasError> {
    serde_json::from_str(text).map_err(|source| SchemasError::Json {
        path: path.to_owned(),
        source,
    })
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SchemasError {
    let path = path.to_owned();
    move |source| SchemasError::Io {
        action,
        path,
        source,
    }
}

fn render_incompatible(found: &BTreeMap<String, Vec<Incompatibility>>) -> String {
    let mut text = String::from(
        "a released event schema would change incompatibly; keep the change compatible, or \
         give the event type a new schema_version (an upcaster step) so that it gets a new \
         file:",
    );
    for (file, changes) in found {
        for change in changes {
            text.push_str(&format!("\n  {file}: {change}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_versions_of_a_bumped_event_type_are_released_files() {
        let generated = Files::from([
            ("asyncapi.yaml".to_owned(), String::new()),
            ("events/cluster.created.v3.json".to_owned(), String::new()),
            ("events/cluster.moved.v1.json".to_owned(), String::new()),
        ]);
        assert_eq!(
            released_older_versions(&generated),
            [
                "events/cluster.created.v1.json",
                "events/cluster.created.v2.json"
            ]
        );
    }
}
