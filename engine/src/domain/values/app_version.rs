//! An application version deployed on droplets: 1 to 64 characters of letters, digits,
//! `.`, `_` and `-` (e.g. `v1.4.2`, `2026-12-06_rc1`).

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::ValidationError;

/// Longest allowed version.
pub const MAX_VERSION_LEN: usize = 64;

/// A validated application version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppVersion(String);

impl AppVersion {
    /// Parses a version; the error names the field `version`.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() || value.len() > MAX_VERSION_LEN {
            return Err(ValidationError::new(
                "version",
                format!("must be 1 to {MAX_VERSION_LEN} characters long"),
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(ValidationError::new(
                "version",
                format!("may contain only letters, digits, '.', '_' and '-' (found {c:?})"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The version as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AppVersion {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AppVersion> for String {
    fn from(value: AppVersion) -> Self {
        value.0
    }
}

/// What [`AppVersion::parse`] accepts.
impl JsonSchema for AppVersion {
    fn schema_name() -> Cow<'static, str> {
        "AppVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An application version: 1 to 64 letters, digits, '.', '_' or '-'.",
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,64}$",
            "minLength": 1,
            "maxLength": MAX_VERSION_LEN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked() {
        assert_eq!(
            AppVersion::parse("v1.4.2-rc_1").unwrap().as_str(),
            "v1.4.2-rc_1"
        );
        for bad in ["", "v 1", "v1/2", "é", &"x".repeat(65)] {
            let error = AppVersion::parse(bad).expect_err(bad);
            assert_eq!(error.field, "version");
        }
        assert!(serde_json::from_str::<AppVersion>("\"a b\"").is_err());
    }
}
