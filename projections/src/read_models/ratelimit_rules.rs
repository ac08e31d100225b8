//! `rm_ratelimit_rules`: one row per rule stream (rules set through the API; a deleted
//! one stays with `configured = 0`).

use engine::domain::RateLimitRule;
use engine::views::RateLimitRuleView;

use super::row_model::RowModel;
use super::rows::{Folded, Value};
use super::tables::RATELIMIT_RULES;
use crate::ProjectionError;

/// Builds `rm_ratelimit_rules`.
pub fn projection() -> RowModel<RateLimitRule> {
    RowModel::new(
        "ratelimit_rules",
        &RATELIMIT_RULES,
        "ratelimit_rule",
        render,
    )
}

fn render(f: &Folded<RateLimitRule>) -> Result<Vec<Value>, ProjectionError> {
    let view = RateLimitRuleView::from_loaded(&f.loaded);
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Int(i64::from(f.loaded.state.is_live())),
        Value::Text(serde_json::to_string(&view)?),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}
