//! The inputs of a diagnosis (the types live in the domain, as they are recorded in
//! `diagnosis.completed`): cutting them to their bounds and their digest.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::domain::diagnosis::{
    ClusterInput, DiagnosisInputs, DropletInput, FailedJobInput, HealthIssueInput, MetricTrend,
    ProviderFaultInput,
};

/// SHA-256 (lowercase hex) of the canonical JSON of `inputs`: object keys sorted, no
/// insignificant whitespace, so equal inputs always give the same digest.
pub fn digest(inputs: &DiagnosisInputs) -> String {
    let value = serde_json::to_value(inputs).unwrap_or(Value::Null);
    let mut text = String::new();
    canonical(&value, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Writes `value` as canonical JSON (sorted keys, compact) into `out`.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let mut out = String::new();
        canonical(
            &json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "x"}], "c": null}}),
            &mut out,
        );
        assert_eq!(out, r#"{"a":{"c":null,"d":[1,{"y":"x","z":0}]},"b":1}"#);
    }

    #[test]
    fn equal_inputs_have_equal_digests_and_a_change_changes_it() {
        let mut inputs = DiagnosisInputs::default();
        inputs.cluster.name = "web".to_owned();
        let first = digest(&inputs);
        assert_eq!(first.len(), 64);
        assert_eq!(first, digest(&inputs.clone()));
        inputs.cluster.droplet_count = 1;
        assert_ne!(first, digest(&inputs));
    }

    #[test]
    fn bounding_cuts_lists_and_texts() {
        let inputs = DiagnosisInputs {
            failed_jobs: (0..30)
                .map(|i| FailedJobInput {
                    id: format!("job_{i}"),
                    job_type: "resize".to_owned(),
                    error: Some("x".repeat(1000)),
                })
                .collect(),
            ..DiagnosisInputs::default()
        };
        let bounded = inputs.bounded();
        assert_eq!(bounded.failed_jobs.len(), 10);
        assert_eq!(bounded.failed_jobs[0].error.as_ref().unwrap().len(), 200);
    }
}
