//! What metric samples need from the read models: whether the clusters and droplets a
//! batch names exist (one statement per batch for its distinct ids), and the active
//! droplets simulated load reports for (one statement per tick).

use std::collections::{HashMap, HashSet};

use engine::domain::Droplet;
use engine::fold::Loaded;
use sqlx::Row;

use crate::{ProjectionError, ReadDb};

/// A droplet a batch named, as the read model has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropletRef {
    pub cluster_id: String,
    pub destroyed: bool,
}

/// The clusters and droplets a batch named that the read models know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleRefs {
    /// Named clusters that exist and are not deleted.
    pub live_clusters: HashSet<String>,
    /// Named droplets that exist (destroyed ones flagged).
    pub droplets: HashMap<String, DropletRef>,
}

/// `$first, …` for `count` arguments.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement behind [`sample_refs`]: clusters, then droplets (when any are named),
/// each found by its primary key.
pub fn sample_refs_sql(clusters: usize, droplets: usize) -> String {
    let mut sql = format!(
        "SELECT 'c' AS kind, id, '' AS cluster_id, deleted AS gone FROM rm_clusters \
         WHERE id IN ({})",
        placeholders(1, clusters.max(1))
    );
    if droplets > 0 {
        sql.push_str(&format!(
            " UNION ALL SELECT 'd' AS kind, id, cluster_id, \
             CAST(CASE WHEN status = 'destroyed' THEN 1 ELSE 0 END AS BIGINT) AS gone \
             FROM rm_droplets WHERE id IN ({})",
            placeholders(clusters.max(1) + 1, droplets)
        ));
    }
    sql
}

/// Which of `clusters` and `droplets` the read models know, in one statement.
pub async fn sample_refs(
    db: &ReadDb,
    clusters: &[String],
    droplets: &[String],
) -> Result<SampleRefs, ProjectionError> {
    let sql = sample_refs_sql(clusters.len(), droplets.len());
    let mut query = sqlx::query(&sql);
    if clusters.is_empty() {
        query = query.bind(String::new());
    }
    for id in clusters.iter().chain(droplets) {
        query = query.bind(id.clone());
    }
    let mut refs = SampleRefs::default();
    for row in query.fetch_all(db.pool()).await? {
        let kind: String = row.try_get("kind")?;
        let id: String = row.try_get("id")?;
        let gone: i64 = row.try_get("gone")?;
        if kind == "c" {
            if gone == 0 {
                refs.live_clusters.insert(id);
            }
        } else {
            let cluster_id: String = row.try_get("cluster_id")?;
            refs.droplets.insert(
                id,
                DropletRef {
                    cluster_id,
                    destroyed: gone != 0,
                },
            );
        }
    }
    Ok(refs)
}

/// An active droplet, for simulated load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveDroplet {
    pub id: String,
    pub cluster_id: String,
    /// Its provider's name (`simcloud` when the state names none).
    pub provider: String,
}

/// Every droplet whose status is `active`, in one statement (the status index finds them).
pub async fn active_droplets(db: &ReadDb) -> Result<Vec<ActiveDroplet>, ProjectionError> {
    let rows = sqlx::query(
        "SELECT id, cluster_id, state FROM rm_droplets WHERE status = 'active' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let state: String = row.try_get("state")?;
            let loaded: Loaded<Droplet> = serde_json::from_str(&state)?;
            Ok(ActiveDroplet {
                id: row.try_get("id")?,
                cluster_id: row.try_get("cluster_id")?,
                provider: loaded
                    .state
                    .provider
                    .as_ref()
                    .map_or_else(|| "simcloud".to_owned(), ToString::to_string),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_statement_names_every_id_once() {
        let sql = sample_refs_sql(2, 3);
        assert!(sql.contains("WHERE id IN ($1, $2)"), "{sql}");
        assert!(sql.contains("WHERE id IN ($3, $4, $5)"), "{sql}");
        assert!(!sample_refs_sql(1, 0).contains("rm_droplets"));
    }
}
