//! `rm_ratelimit_rules`: one row per rule stream (rules set through the API; a deleted
//! one stays with `configured = 0`).

use async_trait::async_trait;
use engine::domain::RateLimitRule;
use engine::store::RecordedEvent;
use engine::views::RateLimitRuleView;
use sqlx::AnyConnection;

use super::bulk_rows::BulkRows;
use super::rows::{project, Folded, Value};
use super::tables::{TableDef, RATELIMIT_RULES};
use crate::bulk::BulkFill;
use crate::{Projection, ProjectionError, Target};

/// Builds `rm_ratelimit_rules`.
pub struct RateLimitRulesProjection;

#[async_trait]
impl Projection for RateLimitRulesProjection {
    fn name(&self) -> &'static str {
        "ratelimit_rules"
    }

    fn tables(&self) -> &'static [TableDef] {
        std::slice::from_ref(&RATELIMIT_RULES)
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        project::<RateLimitRule>(
            conn,
            &RATELIMIT_RULES,
            target,
            events,
            "ratelimit_rule",
            render,
        )
        .await
    }

    fn bulk(&self, existing: bool) -> Option<Box<dyn BulkFill>> {
        Some(Box::new(BulkRows::<RateLimitRule>::new(
            &RATELIMIT_RULES,
            "ratelimit_rule",
            render,
            existing,
        )))
    }
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
