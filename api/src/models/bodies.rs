//! JSON request bodies. Unknown fields are rejected so a typo is not silently ignored.

use serde::Deserialize;
use serde_json::Value;

use engine::domain::ratelimit_rule::{Capacity, Endpoint, RatePerSec, RuleName, RuleScope};
use engine::domain::{
    ClusterId, ClusterName, DropletName, Image, JobType, PowerAction, ProviderId, Region, Size,
};

use crate::errors::ApiError;
use crate::schemas::openapi::common::{domain, domain_list};

/// `POST /v1/clusters`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClusterBody {
    #[schema(schema_with = domain::<ClusterName>)]
    pub name: String,
    #[schema(schema_with = domain::<Region>)]
    pub region: String,
    /// The provider to place the cluster's droplets with (default: the region's).
    #[serde(default)]
    #[schema(schema_with = domain::<ProviderId>)]
    pub provider: Option<String>,
}

/// `PATCH /v1/clusters/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClusterBody {
    #[serde(default)]
    #[schema(schema_with = domain::<ClusterName>)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = domain::<Region>)]
    pub region: Option<String>,
}

/// `POST /v1/droplets`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDropletBody {
    #[schema(schema_with = domain::<ClusterId>)]
    pub cluster_id: String,
    #[schema(schema_with = domain::<DropletName>)]
    pub name: String,
    #[schema(schema_with = domain::<Region>)]
    pub region: String,
    #[schema(schema_with = domain::<Size>)]
    pub size: String,
    #[schema(schema_with = domain::<Image>)]
    pub image: String,
    #[serde(default)]
    #[schema(schema_with = domain::<ProviderId>)]
    pub provider: Option<String>,
    /// Providers placement must not choose.
    #[serde(default)]
    #[schema(schema_with = domain_list::<ProviderId>)]
    pub avoid_providers: Vec<String>,
}

/// `POST /v1/droplets/{id}/resize`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeBody {
    #[schema(schema_with = domain::<Size>)]
    pub size: String,
}

/// `POST /v1/droplets/{id}/power`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerBody {
    #[schema(schema_with = domain::<PowerAction>)]
    pub action: String,
}

/// `POST /v1/droplets/{id}/migrate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateBody {
    #[schema(schema_with = domain::<ProviderId>)]
    pub target_provider: String,
}

/// `POST /v1/jobs`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJobBody {
    #[serde(rename = "type")]
    #[schema(schema_with = domain::<JobType>)]
    pub job_type: String,
    #[schema(schema_with = domain::<ClusterId>)]
    pub cluster_id: String,
    /// The job type's parameters (an object), if it takes any.
    #[serde(default)]
    pub parameters: Option<Value>,
}

/// `POST /v1/jobs/{id}/cancel` (the body is optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelJobBody {
    #[serde(default)]
    pub reason: Option<String>,
}

/// `PUT /v1/ratelimits/rules[/{name}]`. `name` may be left out when the path names the
/// rule. `endpoints` may be left out: a built-in rule keeps its own endpoints, any other
/// rule guards every limitable route (with the `cluster` scope, every route that names a
/// cluster), listed as such in the stored rule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitRuleBody {
    #[serde(default)]
    #[schema(schema_with = domain::<RuleName>)]
    pub name: Option<String>,
    #[schema(schema_with = domain::<RuleScope>)]
    pub scope: String,
    #[schema(schema_with = domain::<RatePerSec>)]
    pub rate_per_sec: f64,
    #[schema(schema_with = domain::<Capacity>)]
    pub capacity: u64,
    /// Default: a built-in rule's own endpoints, else every limitable route (every one
    /// that names a cluster for the `cluster` scope).
    #[serde(default)]
    #[schema(schema_with = domain_list::<Endpoint>)]
    pub endpoints: Option<Vec<String>>,
}

/// `POST /v1/providers`: a whole provider configuration (omitted fields take defaults),
/// plus optional faults for this process.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProviderBody {
    #[schema(schema_with = domain::<ProviderId>)]
    pub name: String,
    /// Default: the name.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    #[schema(schema_with = domain_list::<Region>)]
    pub regions: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = domain_list::<Size>)]
    pub sizes: Option<Vec<String>>,
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, maximum = 10.0)]
    pub price_multiplier: Option<f64>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100_000)]
    pub capacity_per_region: Option<u32>,
    #[serde(default)]
    pub latency: Option<LatencyBody>,
    /// Injected into this process's simulation only; not recorded.
    #[serde(default)]
    pub faults: Option<engine::provider::Faults>,
}

/// Base latencies in `POST /v1/providers` (omitted ones take the defaults).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyBody {
    #[serde(default)]
    #[schema(maximum = 600_000)]
    pub provision_ms: Option<u64>,
    #[serde(default)]
    #[schema(maximum = 600_000)]
    pub resize_ms: Option<u64>,
    #[serde(default)]
    #[schema(maximum = 600_000)]
    pub power_ms: Option<u64>,
    #[serde(default)]
    #[schema(maximum = 600_000)]
    pub destroy_ms: Option<u64>,
}

impl LatencyBody {
    /// The latencies, defaults filled in.
    pub fn latency(&self) -> engine::domain::Latency {
        let d = engine::domain::Latency::default();
        engine::domain::Latency {
            provision_ms: self.provision_ms.unwrap_or(d.provision_ms),
            resize_ms: self.resize_ms.unwrap_or(d.resize_ms),
            power_ms: self.power_ms.unwrap_or(d.power_ms),
            destroy_ms: self.destroy_ms.unwrap_or(d.destroy_ms),
        }
    }
}

/// Parses a JSON body: broken JSON is a 400, a missing or mistyped field a 422 naming it.
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first: malformed JSON is a 400 even when its start already breaks a rule.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| body_error("body".into(), e))?;
    // Every body is an object (serde would also take an array for a struct).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|error| {
        let path = error.path().to_string();
        let error = error.into_inner();
        let field = match path.as_str() {
            "." => named_field(&error.to_string()).unwrap_or("body").to_owned(),
            _ => path,
        };
        body_error(field, error)
    })?;
    de.end().map_err(|e| body_error("body".into(), e))?;
    Ok(value)
}

/// The field a serde message names ("missing field `x`", "unknown field `x`"), if any.
fn named_field(message: &str) -> Option<&str> {
    ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next())
        .filter(|field| !field.is_empty())
}

fn body_error(field: String, error: serde_json::Error) -> ApiError {
    if error.is_data() {
        ApiError::invalid_field(field, error.to_string())
    } else {
        ApiError::bad_field("body", format!("malformed JSON: {error}"))
    }
}

/// Parses an optional JSON body (empty means the default).
pub fn parse_optional<T: serde::de::DeserializeOwned + Default>(
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_json_is_a_bad_request_and_missing_fields_name_the_field() {
        let broken = parse::<CreateClusterBody>(b"{\"name\": ").unwrap_err();
        assert_eq!(broken.status(), 400);
        let missing = parse::<CreateClusterBody>(b"{\"name\": \"a\"}").unwrap_err();
        assert_eq!(missing.status(), 422);
        assert!(missing.to_string().contains("region"), "{missing}");
        assert!(
            matches!(missing, ApiError::Validation { ref errors, .. } if errors.contains_key("region"))
        );
        let mistyped =
            parse::<CreateClusterBody>(b"{\"name\": 5, \"region\": \"nyc1\"}").unwrap_err();
        assert!(
            matches!(mistyped, ApiError::Validation { ref errors, .. } if errors.contains_key("name"))
        );
        let trailing = parse::<ResizeBody>(b"{\"size\": \"c-2\"} x").unwrap_err();
        assert_eq!(trailing.status(), 400);
        let trailing = parse::<ResizeBody>(b"{} x").unwrap_err();
        assert_eq!(trailing.status(), 400);
        let array = parse::<UpdateClusterBody>(b" []").unwrap_err();
        assert_eq!(array.status(), 422);
        assert!(parse_optional::<CancelJobBody>(b"  ")
            .unwrap()
            .reason
            .is_none());
    }
}
