//! References into the static catalog: regions, sizes, images and providers.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::ValidationError;
use crate::domain::catalog::{self, ImageInfo, ProviderInfo, RegionInfo, SizeInfo};

/// At most this many characters of an invalid input are echoed back in a message.
const ECHO_LIMIT: usize = 40;

/// Quotes `value` for an error message, shortened when it is long.
fn echo(value: &str) -> String {
    if value.len() <= ECHO_LIMIT {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(ECHO_LIMIT).collect();
        format!("{head:?}...")
    }
}

macro_rules! catalog_ref {
    (
        $doc:literal, $name:ident($info:ty), key = $key:ident, field = $field:literal,
        what = $what:literal, lookup = $lookup:path, all = $all:path
    ) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(&'static $info);

        impl $name {
            /// Parses a catalog id; unknown ids are rejected with the list of known ones.
            pub fn parse(value: &str) -> Result<Self, ValidationError> {
                $lookup(value).map(Self).ok_or_else(|| {
                    let known: Vec<&str> = $all().iter().map(|entry| entry.$key).collect();
                    ValidationError::new(
                        $field,
                        format!(
                            "unknown {} {}; expected one of: {}",
                            $what,
                            echo(value),
                            known.join(", ")
                        ),
                    )
                })
            }

            /// The catalog id.
            pub fn as_str(&self) -> &'static str {
                self.0.$key
            }

            /// The catalog entry.
            pub fn info(&self) -> &'static $info {
                self.0
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_str()).finish()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
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
                value.as_str().to_owned()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        /// What [`Self::parse`] accepts: one of the catalog's ids.
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let known: Vec<&str> = $all().iter().map(|entry| entry.$key).collect();
                json_schema!({
                    "description": $doc,
                    "type": "string",
                    "enum": known,
                })
            }
        }
    };
}

catalog_ref!(
    "A catalog region id, e.g. `nyc1`.",
    Region(RegionInfo),
    key = id,
    field = "region",
    what = "region",
    lookup = catalog::region,
    all = catalog::regions
);
catalog_ref!(
    "A catalog size slug, e.g. `s-1vcpu-1gb`.",
    Size(SizeInfo),
    key = slug,
    field = "size",
    what = "size",
    lookup = catalog::size,
    all = catalog::sizes
);
catalog_ref!(
    "A catalog image slug, e.g. `ubuntu-22-04-x64`.",
    Image(ImageInfo),
    key = slug,
    field = "image",
    what = "image",
    lookup = catalog::image,
    all = catalog::images
);
catalog_ref!(
    "A simulated provider name, e.g. `simcloud`.",
    ProviderName(ProviderInfo),
    key = name,
    field = "provider",
    what = "provider",
    lookup = catalog::provider,
    all = catalog::providers
);

impl ProviderName {
    /// Whether this provider offers `region`.
    pub fn offers(&self, region: &Region) -> bool {
        self.0.offers(region)
    }

    /// The provider used in `region` when none is asked for (see
    /// [`catalog::default_provider_for`]).
    pub fn default_for(region: &Region) -> Self {
        Self(catalog::default_provider_for(region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_values_parse_against_the_catalog() {
        let region = Region::parse("fra1").expect("region");
        assert_eq!(region.as_str(), "fra1");
        assert_eq!(region.info().name, "Frankfurt 1");
        assert_eq!(region.to_string(), "fra1");
        assert_eq!(format!("{region:?}"), "Region(\"fra1\")");
        let size = Size::parse("c-2").expect("size");
        assert_eq!(size.info().vcpus, 2);
        assert!(Image::parse("debian-11-x64").is_ok());
        let provider = ProviderName::parse("nimbus").expect("provider");
        assert!(provider.offers(&region));
        assert!(!provider.offers(&Region::parse("tor1").expect("region")));
        assert_eq!(ProviderName::default_for(&region).as_str(), "simcloud");
    }

    #[test]
    fn unknown_catalog_values_are_rejected_with_the_known_ones() {
        let err = Region::parse("mars1").expect_err("unknown");
        assert_eq!(err.field, "region");
        assert!(err
            .message
            .starts_with("unknown region \"mars1\"; expected one of: nyc1, nyc2"));
        assert_eq!(Size::parse("huge").expect_err("unknown").field, "size");
        assert_eq!(Image::parse("ubuntu").expect_err("unknown").field, "image");
        assert_eq!(
            ProviderName::parse("aws").expect_err("unknown").field,
            "provider"
        );
        assert!(Region::parse("NYC1").is_err());
        assert!(Region::parse(" nyc1").is_err());
        let long = Region::parse(&"x".repeat(10_000)).expect_err("unknown");
        assert!(long.message.len() < 200, "{}", long.message);
    }

    #[test]
    fn catalog_values_round_trip_as_strings() {
        let size = Size::parse("s-2vcpu-4gb").expect("size");
        let json = serde_json::to_string(&size).expect("serialise");
        assert_eq!(json, "\"s-2vcpu-4gb\"");
        assert_eq!(
            serde_json::from_str::<Size>(&json).expect("deserialise"),
            size
        );
        assert!(serde_json::from_str::<Size>("\"s-64vcpu\"").is_err());
        assert!(serde_json::from_str::<ProviderName>("\"aws\"").is_err());
    }
}
