//! Upcasting: reading events stored in an older `schema_version`.
//!
//! Stored events are never rewritten. When an event's data shape changes, its type's
//! version goes up and a step `(type, v) -> v + 1` is registered here; on read, an older
//! event is carried step by step to the current version before it is deserialised (see
//! `fold::Loaded::apply_recorded_with`). Every event type is at version 1 today, so
//! the standard registry holds no step yet.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

/// One step: turns the data of version `v` into the data of version `v + 1`.
pub type UpcastStep = fn(Value) -> Value;

/// Why an event could not be brought to the current version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    #[error("no upcaster from version {version} of {event_type} (current: {current})")]
    MissingStep {
        event_type: String,
        version: i32,
        current: i32,
    },
    #[error("{event_type} version {version} is newer than this build knows ({current})")]
    TooNew {
        event_type: String,
        version: i32,
        current: i32,
    },
}

/// Current versions and the steps that lead to them.
#[derive(Debug, Clone, Default)]
pub struct Upcasters {
    current: HashMap<String, i32>,
    steps: HashMap<(String, i32), UpcastStep>,
}

static STANDARD: LazyLock<Upcasters> = LazyLock::new(Upcasters::default);

impl Upcasters {
    /// The registry this build reads the log with.
    pub fn standard() -> &'static Upcasters {
        &STANDARD
    }

    /// Registers the step from `from_version` of `event_type` to the next version, which
    /// becomes the type's current version if it is the highest known.
    pub fn with_step(mut self, event_type: &str, from_version: i32, step: UpcastStep) -> Self {
        self.steps
            .insert((event_type.to_owned(), from_version), step);
        let current = self.current.entry(event_type.to_owned()).or_insert(1);
        *current = (*current).max(from_version + 1);
        self
    }

    /// The current version of `event_type` (1 unless a step says more).
    pub fn current(&self, event_type: &str) -> i32 {
        self.current.get(event_type).copied().unwrap_or(1)
    }

    /// [`Upcasters::upcast`] of borrowed `data`: copied only when a step has to change it.
    pub fn upcast_ref<'a>(
        &self,
        event_type: &str,
        version: i32,
        data: &'a Value,
    ) -> Result<Cow<'a, Value>, UpcastError> {
        if version == self.current(event_type) {
            return Ok(Cow::Borrowed(data));
        }
        self.upcast(event_type, version, data.clone())
            .map(Cow::Owned)
    }

    /// Brings `data`, stored as `version` of `event_type`, to the current version.
    pub fn upcast(
        &self,
        event_type: &str,
        version: i32,
        mut data: Value,
    ) -> Result<Value, UpcastError> {
        let current = self.current(event_type);
        if version > current {
            return Err(UpcastError::TooNew {
                event_type: event_type.to_owned(),
                version,
                current,
            });
        }
        for from in version..current {
            let step = self
                .steps
                .get(&(event_type.to_owned(), from))
                .ok_or_else(|| UpcastError::MissingStep {
                    event_type: event_type.to_owned(),
                    version: from,
                    current,
                })?;
            data = step(data);
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn borrowed_data_is_copied_only_when_a_step_changes_it() {
        let upcasters = Upcasters::default().with_step("cluster.created", 1, rename_title);
        let current = json!({ "name": "b" });
        let read = upcasters
            .upcast_ref("cluster.created", 2, &current)
            .unwrap();
        assert!(matches!(read, Cow::Borrowed(_)));
        let old = json!({ "title": "a" });
        let read = upcasters.upcast_ref("cluster.created", 1, &old).unwrap();
        assert!(matches!(&read, Cow::Owned(v) if v == &json!({ "name": "a" })));
        assert!(upcasters
            .upcast_ref("cluster.created", 3, &current)
            .is_err());
    }

    fn rename_title(mut data: Value) -> Value {
        if let Some(title) = data.as_object_mut().and_then(|m| m.remove("title")) {
            data["name"] = title;
        }
        data
    }

    fn add_provider(mut data: Value) -> Value {
        data["provider"] = Value::Null;
        data
    }

    #[test]
    fn steps_chain_to_the_current_version() {
        let upcasters = Upcasters::default()
            .with_step("cluster.created", 1, rename_title)
            .with_step("cluster.created", 2, add_provider);
        assert_eq!(upcasters.current("cluster.created"), 3);
        let data = upcasters
            .upcast("cluster.created", 1, json!({ "title": "a" }))
            .unwrap();
        assert_eq!(data, json!({ "name": "a", "provider": null }));
        let data = upcasters
            .upcast("cluster.created", 3, json!({ "name": "b" }))
            .unwrap();
        assert_eq!(
            data,
            json!({ "name": "b" }),
            "the current version passes unchanged"
        );
    }

    #[test]
    fn unknown_versions_are_errors_not_panics() {
        let upcasters = Upcasters::standard();
        assert_eq!(
            upcasters.upcast("cluster.renamed", 1, json!({})),
            Ok(json!({}))
        );
        assert!(matches!(
            upcasters.upcast("cluster.renamed", 0, json!({})),
            Err(UpcastError::MissingStep {
                version: 0,
                current: 1,
                ..
            })
        ));
        assert!(matches!(
            upcasters.upcast("cluster.renamed", 2, json!({})),
            Err(UpcastError::TooNew {
                version: 2,
                current: 1,
                ..
            })
        ));
    }
}
