//! Resource names: 1 to 63 lowercase letters, digits and hyphens, starting with a letter.

use std::fmt;
use std::str::FromStr;

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::{Region, ValidationError};
use crate::domain::catalog;

/// Longest allowed resource name.
pub const MAX_NAME_LEN: usize = 63;

/// The rules of [`parse_name`] as an ECMA-262 regular expression (for JSON Schema).
const NAME_PATTERN: &str = "^[a-z]([a-z0-9-]*[a-z0-9])?$";

fn parse_name(value: &str, field: &'static str) -> Result<String, ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    // Checked on the byte length first, so a huge input is rejected without scanning it.
    if value.len() > MAX_NAME_LEN {
        return Err(ValidationError::new(
            field,
            format!(
                "must be at most {MAX_NAME_LEN} characters long (got {} bytes)",
                value.len()
            ),
        ));
    }
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(ValidationError::new(
            field,
            "must start with a lowercase letter",
        ));
    }
    if let Some((index, c)) = value
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(ValidationError::new(
            field,
            format!(
                "may contain only lowercase letters, digits and hyphens (found {c:?} at \
                 position {index})"
            ),
        ));
    }
    if value.ends_with('-') {
        return Err(ValidationError::new(field, "must not end with a hyphen"));
    }
    Ok(value.to_owned())
}

/// A name type without its JSON Schema (see [`resource_name`]).
macro_rules! resource_name_type {
    ($doc:literal, $name:ident, $field:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a name: 1 to 63 characters, lowercase ASCII letters, digits and
            /// hyphens, starting with a letter and not ending with a hyphen. Nothing is
            /// trimmed.
            pub fn parse(value: &str) -> Result<Self, ValidationError> {
                parse_name(value, $field).map(Self)
            }

            /// The name as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

macro_rules! resource_name {
    ($doc:literal, $name:ident, $field:literal) => {
        resource_name_type!($doc, $name, $field);

        /// What [`Self::parse`] accepts.
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "description": $doc,
                    "type": "string",
                    "pattern": NAME_PATTERN,
                    "minLength": 1,
                    "maxLength": MAX_NAME_LEN,
                })
            }
        }
    };
}

resource_name!(
    "A cluster name: 1 to 63 lowercase letters, digits and hyphens, starting with a letter \
     and not ending with a hyphen.",
    ClusterName,
    "name"
);
resource_name!(
    "A droplet name: 1 to 63 lowercase letters, digits and hyphens, starting with a letter \
     and not ending with a hyphen.",
    DropletName,
    "name"
);
resource_name!(
    "A simulated provider's name (the id of its `provider` aggregate): 1 to 63 lowercase \
     letters, digits and hyphens, starting with a letter and not ending with a hyphen.",
    ProviderId,
    "name"
);

resource_name_type!(
    "A provider a cluster or droplet names: a built-in one (`simcloud`, `nimbus`, \
     `stratus`) or one registered through `POST /v1/providers`. The value only checks the \
     name's form; whether such a provider exists is checked against the registry when a \
     command names it.",
    ProviderName,
    "provider"
);

/// The released event schemas list the built-in providers as an `enum`; a registered
/// provider's name is a value consumers do not know, which the compatibility rules ask
/// them to read as "other" (a widened schema would break consumers of version 1).
impl JsonSchema for ProviderName {
    fn schema_name() -> Cow<'static, str> {
        "ProviderName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let builtin: Vec<&str> = catalog::providers().iter().map(|p| p.name).collect();
        json_schema!({
            "description": "A provider name: a built-in one, e.g. `simcloud`, or a name \
                            registered through `POST /v1/providers` (read values outside \
                            the list as another provider).",
            "type": "string",
            "enum": builtin,
        })
    }
}

impl ProviderName {
    /// The provider used in `region` when none is asked for (see
    /// [`catalog::default_provider_for`]).
    pub fn default_for(region: &Region) -> Self {
        Self(catalog::default_provider_for(region).name.to_owned())
    }
}

impl From<&ProviderId> for ProviderName {
    fn from(id: &ProviderId) -> Self {
        Self(id.as_str().to_owned())
    }
}

impl From<&ProviderName> for ProviderId {
    fn from(name: &ProviderName) -> Self {
        Self(name.as_str().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn valid_names() {
        for ok in ["a", "web", "web-1", "a1-b2-c3", "x0", &"a".repeat(63)] {
            assert_eq!(ClusterName::parse(ok).expect(ok).as_str(), ok);
            assert!(DropletName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn invalid_names_say_why() {
        let cases = [
            ("", "must not be empty"),
            ("1web", "must start with a lowercase letter"),
            ("-web", "must start with a lowercase letter"),
            ("Web", "must start with a lowercase letter"),
            ("web-", "must not end with a hyphen"),
            (
                "web_1",
                "may contain only lowercase letters, digits and hyphens",
            ),
            (
                "web 1",
                "may contain only lowercase letters, digits and hyphens",
            ),
            (" web", "must start with a lowercase letter"),
            (
                "web ",
                "may contain only lowercase letters, digits and hyphens",
            ),
            (
                "wEb",
                "may contain only lowercase letters, digits and hyphens",
            ),
            (
                "wébb",
                "may contain only lowercase letters, digits and hyphens",
            ),
            (
                "web\n",
                "may contain only lowercase letters, digits and hyphens",
            ),
        ];
        for (input, reason) in cases {
            let err = ClusterName::parse(input).expect_err(input);
            assert_eq!(err.field, "name");
            assert!(err.message.contains(reason), "{input:?}: {}", err.message);
        }
        let err = DropletName::parse(&"a".repeat(64)).expect_err("too long");
        assert_eq!(
            err.to_string(),
            "name: must be at most 63 characters long (got 64 bytes)"
        );
    }

    #[test]
    fn a_megabyte_name_is_rejected_fast_with_a_clear_message() {
        let huge = "a".repeat(1024 * 1024);
        let started = Instant::now();
        let err = ClusterName::parse(&huge).expect_err("too long");
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!(
            err.message,
            "must be at most 63 characters long (got 1048576 bytes)"
        );
        assert!(err.to_string().len() < 100);
        // Also as JSON: deserialising fails instead of storing it.
        let json = serde_json::to_string(&huge).expect("serialise");
        assert!(serde_json::from_str::<DropletName>(&json).is_err());
    }

    #[test]
    fn provider_names_are_any_well_formed_name_and_default_by_region() {
        // A registered provider's name is as valid as a built-in one's.
        let edge = ProviderName::parse("edge-cloud").expect("well formed");
        assert_eq!(edge.as_str(), "edge-cloud");
        assert_eq!(ProviderId::from(&edge).as_str(), "edge-cloud");
        assert_eq!(ProviderName::from(&ProviderId::from(&edge)), edge);
        let err = ProviderName::parse("AWS").expect_err("upper case");
        assert_eq!(err.field, "provider");
        assert!(serde_json::from_str::<ProviderName>("\"bad name\"").is_err());
        let fra1 = Region::parse("fra1").expect("region");
        assert_eq!(ProviderName::default_for(&fra1).as_str(), "simcloud");
    }
}
