//! Prefixed, time-ordered ids: `cl_`, `dr_`, `job_`, `dg_` and `dep_` followed by a UUID v7 in simple hex.

use std::fmt;
use std::str::FromStr;

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ValidationError;

/// Hex digits in a simple-format UUID.
const UUID_HEX_LEN: usize = 32;

fn parse_prefixed(
    value: &str,
    prefix: &'static str,
    field: &'static str,
) -> Result<String, ValidationError> {
    let invalid = || {
        ValidationError::new(
            field,
            format!("must be \"{prefix}\" followed by {UUID_HEX_LEN} lowercase hex characters"),
        )
    };
    if value.len() != prefix.len() + UUID_HEX_LEN {
        return Err(invalid());
    }
    let hex = value.strip_prefix(prefix).ok_or_else(invalid)?;
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(invalid());
    }
    Ok(value.to_owned())
}

macro_rules! prefixed_id {
    ($doc:literal, $name:ident, $prefix:literal, $field:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new id: the prefix and a fresh UUID v7 (time ordered) in simple hex.
            pub fn new() -> Self {
                Self(format!("{}{}", $prefix, Uuid::now_v7().simple()))
            }

            /// Parses an id: the prefix followed by exactly 32 lowercase hex characters.
            pub fn parse(value: &str) -> Result<Self, ValidationError> {
                parse_prefixed(value, $prefix, $field).map(Self)
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            /// Same as [`Self::new`]: a fresh id.
            fn default() -> Self {
                Self::new()
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

        /// What [`Self::parse`] accepts: the prefix and 32 lowercase hex digits.
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let len = $prefix.len() + UUID_HEX_LEN;
                json_schema!({
                    "description": $doc,
                    "type": "string",
                    "pattern": concat!("^", $prefix, "[0-9a-f]{32}$"),
                    "minLength": len,
                    "maxLength": len,
                })
            }
        }
    };
}

prefixed_id!(
    "A cluster id: `cl_` and a UUID v7 in simple hex (32 lowercase hex digits).",
    ClusterId,
    "cl_",
    "cluster_id"
);
prefixed_id!(
    "A deployment id: `dep_` and a UUID v7 in simple hex (32 lowercase hex digits).",
    DeploymentId,
    "dep_",
    "deployment_id"
);
prefixed_id!(
    "A diagnosis id: `dg_` and a UUID v7 in simple hex (32 lowercase hex digits).",
    DiagnosisId,
    "dg_",
    "diagnosis_id"
);
prefixed_id!(
    "A droplet id: `dr_` and a UUID v7 in simple hex (32 lowercase hex digits).",
    DropletId,
    "dr_",
    "droplet_id"
);
prefixed_id!(
    "A job id: `job_` and a UUID v7 in simple hex (32 lowercase hex digits).",
    JobId,
    "job_",
    "job_id"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::aggregate::{Classify, DomainErrorKind};

    #[test]
    fn generated_ids_parse_and_carry_their_prefix() {
        let cluster = ClusterId::new();
        assert!(cluster.as_str().starts_with("cl_"));
        assert_eq!(cluster.as_str().len(), 3 + 32);
        assert_eq!(ClusterId::parse(cluster.as_str()), Ok(cluster.clone()));
        let droplet = DropletId::new();
        assert!(droplet.as_str().starts_with("dr_"));
        assert_eq!(DropletId::parse(droplet.as_str()), Ok(droplet));
        let job = JobId::new();
        assert!(job.as_str().starts_with("job_"));
        assert_eq!(JobId::parse(job.as_str()), Ok(job));
        assert_ne!(ClusterId::new(), ClusterId::new());
    }

    #[test]
    fn generated_ids_are_uuid_v7() {
        let id = JobId::new();
        let uuid = Uuid::parse_str(&id.as_str()[4..]).expect("uuid");
        assert_eq!(uuid.get_version_num(), 7);
    }

    #[test]
    fn id_parsing_rejects_bad_input() {
        let hex = "0190f3a1b2c37d4e8f9a0b1c2d3e4f50";
        assert!(ClusterId::parse(&format!("cl_{hex}")).is_ok());
        for bad in [
            String::new(),
            "cl_".to_owned(),
            hex.to_owned(),
            format!("dr_{hex}"),
            format!("cl_{}", hex.to_uppercase()),
            format!("cl_{hex}0"),
            format!("cl_{}", &hex[1..]),
            format!("cl_{}g", &hex[1..]),
            format!("cl-{hex}"),
            format!(" cl_{hex}"),
            format!("cl_{}é", &hex[2..]),
        ] {
            let err = ClusterId::parse(&bad).expect_err(&bad);
            assert_eq!(err.field, "cluster_id");
        }
        let err = JobId::parse("job_x").expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "job_id: must be \"job_\" followed by 32 lowercase hex characters"
        );
        assert_eq!(err.kind(), DomainErrorKind::Invalid);
    }

    #[test]
    fn ids_serialise_as_strings_and_validate_on_deserialise() {
        let id = DropletId::parse("dr_0190f3a1b2c37d4e8f9a0b1c2d3e4f50").expect("valid");
        let json = serde_json::to_string(&id).expect("serialise");
        assert_eq!(json, "\"dr_0190f3a1b2c37d4e8f9a0b1c2d3e4f50\"");
        assert_eq!(
            serde_json::from_str::<DropletId>(&json).expect("deserialise"),
            id
        );
        assert!(serde_json::from_str::<DropletId>("\"dr_nope\"").is_err());
        assert!(serde_json::from_str::<DropletId>("42").is_err());
    }
}
