//! `rm_providers`: one row per registered provider configuration.

use engine::domain::ProviderConfig;
use engine::views::ProviderView;

use super::row_model::RowModel;
use super::rows::{time, Folded, Value};
use super::tables::PROVIDERS;
use crate::ProjectionError;

/// Builds `rm_providers`.
pub fn projection() -> RowModel<ProviderConfig> {
    RowModel::new("providers", &PROVIDERS, "provider", render)
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
