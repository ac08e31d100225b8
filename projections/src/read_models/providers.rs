//! `rm_providers`: one row per registered provider configuration.

use async_trait::async_trait;
use engine::domain::ProviderConfig;
use engine::store::RecordedEvent;
use engine::views::ProviderView;
use sqlx::AnyConnection;

use super::bulk_rows::BulkRows;
use super::rows::{project, time, Folded, Value};
use super::tables::{TableDef, PROVIDERS};
use crate::bulk::BulkFill;
use crate::{Projection, ProjectionError, Target};

/// Builds `rm_providers`.
pub struct ProvidersProjection;

#[async_trait]
impl Projection for ProvidersProjection {
    fn name(&self) -> &'static str {
        "providers"
    }

    fn tables(&self) -> &'static [TableDef] {
        std::slice::from_ref(&PROVIDERS)
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        project::<ProviderConfig>(conn, &PROVIDERS, target, events, "provider", render).await
    }

    fn bulk(&self, existing: bool) -> Option<Box<dyn BulkFill>> {
        Some(Box::new(BulkRows::<ProviderConfig>::new(
            &PROVIDERS, "provider", render, existing,
        )))
    }
}

fn render(f: &Folded<ProviderConfig>) -> Result<Vec<Value>, ProjectionError> {
    let view = ProviderView::from_loaded(&f.loaded);
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Text(time(f.loaded.created_at)),
        Value::Text(serde_json::to_string(&view)?),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}
