//! The versioned prompt sent to an OpenAI-compatible chat endpoint, and the JSON Schema
//! its answer must follow (sent as `response_format` and checked on the answer).
//!
//! Changing the wording, the schema or what the inputs carry changes the answers: bump
//! [`PROMPT_VERSION`], which every LLM diagnosis records.

use serde_json::{json, Value};

use super::inputs::DiagnosisInputs;
use crate::domain::diagnosis::{Priority, RecommendedAction};

/// The version of the prompt and answer schema below.
pub const PROMPT_VERSION: &str = "diagnosis-v1";

/// Recommendations an answer may carry at most.
pub const MAX_RECOMMENDATIONS: usize = 12;
/// Insights an answer may carry at most.
pub const MAX_INSIGHTS: usize = 20;

const SYSTEM: &str = "You are ClusterGenie's site reliability assistant. You diagnose one \
cluster of simulated droplets (virtual machines) from a JSON summary of its state: status \
(healthy, warning, critical), droplets, health issues, metric trends over the last hour \
(cpu, memory and disk in %, network in Mbps; slope in units per hour), recent failed jobs \
and faults of the cloud providers. Answer with JSON only, following the given schema: a \
health_score from 0 (down) to 100 (nothing to improve), short factual insights, and \
recommendations ordered by urgency. Each recommendation carries exactly one action: \
scale_up or scale_down {count 1-20}, resize {droplet_id, size}, restart {droplet_id}, \
create_droplet {size, image}, monitor {}, or none {} for advice only. Use only droplet ids \
from the summary and sizes from: s-1vcpu-1gb, s-1vcpu-2gb, s-2vcpu-2gb, s-2vcpu-4gb, \
s-4vcpu-8gb, c-2, m-1vcpu-8gb. Images: ubuntu-22-04-x64, ubuntu-20-04-x64, centos-7-x64, \
debian-11-x64, fedora-36-x64, rocky-8-x64.";

/// The JSON Schema of an answer.
pub fn answer_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["health_score", "insights", "recommendations"],
        "properties": {
            "health_score": {"type": "integer", "minimum": 0, "maximum": 100},
            "insights": {
                "type": "array",
                "maxItems": MAX_INSIGHTS,
                "items": {"type": "string", "minLength": 1, "maxLength": 500}
            },
            "recommendations": {
                "type": "array",
                "maxItems": MAX_RECOMMENDATIONS,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["title", "detail", "priority", "action"],
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 120},
                        "detail": {"type": "string", "maxLength": 1000},
                        "priority": {"type": "string", "enum": Priority::NAMES},
                        "action": {
                            "type": "object",
                            "required": ["type"],
                            "properties": {
                                "type": {"type": "string", "enum": RecommendedAction::TYPES},
                                "count": {"type": "integer", "minimum": 1, "maximum": 20},
                                "droplet_id": {"type": "string"},
                                "size": {"type": "string"},
                                "image": {"type": "string"}
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The chat messages for `inputs`.
pub fn messages(inputs: &DiagnosisInputs) -> Value {
    let summary = serde_json::to_string(inputs).unwrap_or_default();
    json!([
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": format!("Diagnose this cluster.\n\n{summary}")}
    ])
}

/// The body of `POST /chat/completions` for `model` and `inputs`.
pub fn request_body(model: &str, inputs: &DiagnosisInputs) -> Value {
    json!({
        "model": model,
        "temperature": 0,
        "messages": messages(inputs),
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "cluster_diagnosis",
                "strict": false,
                "schema": answer_schema()
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_schema_is_a_valid_schema_and_the_request_carries_it() {
        jsonschema::validator_for(&answer_schema()).expect("a valid schema");
        let body = request_body("m", &DiagnosisInputs::default());
        assert_eq!(body["model"], "m");
        assert_eq!(
            body["response_format"]["json_schema"]["schema"],
            answer_schema()
        );
        let user = body["messages"][1]["content"].as_str().unwrap();
        assert!(user.contains("\"droplet_count\":0"), "{user}");
    }
}
