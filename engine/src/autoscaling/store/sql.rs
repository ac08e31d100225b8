//! The statements of the history and the metric windows. Lists of rows travel as one
//! JSON parameter, expanded by the backend (`jsonb_to_recordset` on PostgreSQL,
//! `json_each` on SQLite), so that a statement's text and its number of parameters do not
//! depend on how many clusters a round has.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    AutoscalingDecisionView, AutoscalingStoreError, DecisionRecord, MetricAverage, Newest, Plan,
    WindowRequest, KEEP,
};
use crate::domain::autoscaler::{DecisionCode, ScaleDecision, Trigger};
use crate::domain::ClusterId;
use crate::metrics::rollup::{from_micros, micros};

/// The SQL dialect of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

/// Typed columns of a JSON array of objects: `(name, PostgreSQL type)`.
type Columns = &'static [(&'static str, &'static str)];

const RECORD_COLUMNS: Columns = &[
    ("id", "text"),
    ("cluster_id", "text"),
    ("at_us", "bigint"),
    ("trigger_kind", "text"),
    ("decision", "text"),
    ("droplet_count", "bigint"),
    ("code", "text"),
    ("reason", "text"),
    ("inputs", "text"),
    ("job_id", "text"),
    ("event_position", "bigint"),
];

const BUMP_COLUMNS: Columns = &[
    ("id", "text"),
    ("at_us", "bigint"),
    ("trigger_kind", "text"),
    ("reason", "text"),
    ("inputs", "text"),
];

const WINDOW_COLUMNS: Columns = &[
    ("cluster_id", "text"),
    ("metric_type", "text"),
    ("since", "bigint"),
];

impl Dialect {
    /// The rows of JSON array parameter `$n` as a table `alias` with `columns`.
    fn records(self, n: usize, columns: Columns, alias: &str) -> String {
        match self {
            Self::Postgres => {
                let typed: Vec<String> = columns.iter().map(|(c, t)| format!("{c} {t}")).collect();
                format!(
                    "jsonb_to_recordset(${n}::jsonb) AS {alias}({})",
                    typed.join(", ")
                )
            }
            Self::Sqlite => {
                let picked: Vec<String> = columns
                    .iter()
                    .map(|(c, _)| format!("json_extract(value, '$.{c}') AS {c}"))
                    .collect();
                format!(
                    "(SELECT {} FROM json_each(${n})) AS {alias}",
                    picked.join(", ")
                )
            }
        }
    }

    /// The strings of JSON array parameter `$n` as a table `alias` with column `value`.
    fn strings(self, n: usize, alias: &str) -> String {
        match self {
            Self::Postgres => format!("jsonb_array_elements_text(${n}::jsonb) AS {alias}(value)"),
            Self::Sqlite => format!("json_each(${n}) AS {alias}"),
        }
    }

    /// `$1`: the clusters (JSON array of ids). Their newest rows.
    pub fn newest(self) -> String {
        format!(
            "SELECT id, cluster_id, decision, code, at_us, evaluations \
             FROM cg_autoscaling_decisions WHERE id IN (SELECT (SELECT n.id FROM \
             cg_autoscaling_decisions n WHERE n.cluster_id = c.value \
             ORDER BY n.at_us DESC, n.id DESC LIMIT 1) FROM {})",
            self.strings(1, "c")
        )
    }

    /// `$1`: the bumps (JSON array). Bumps each newest row.
    pub fn bump(self) -> String {
        let target = match self {
            Self::Postgres => "cg_autoscaling_decisions d",
            Self::Sqlite => "cg_autoscaling_decisions AS d",
        };
        format!(
            "UPDATE {target} SET last_at_us = x.at_us, evaluations = evaluations + 1, \
             trigger_kind = x.trigger_kind, reason = x.reason, inputs = x.inputs \
             FROM {} WHERE d.id = x.id",
            self.records(1, BUMP_COLUMNS, "x")
        )
    }

    /// `$1`: the new rows (JSON array). Inserts them.
    pub fn insert(self) -> String {
        format!(
            "INSERT INTO cg_autoscaling_decisions (id, cluster_id, at_us, last_at_us, \
             evaluations, trigger_kind, decision, droplet_count, code, reason, inputs, job_id, \
             event_position) SELECT id, cluster_id, at_us, at_us, 1, trigger_kind, decision, \
             droplet_count, code, reason, inputs, job_id, event_position FROM {}",
            self.records(1, RECORD_COLUMNS, "x")
        )
    }

    /// `$1`: the clusters (JSON array of ids), `$2`: rows kept. Deletes older rows.
    pub fn prune(self) -> String {
        format!(
            "DELETE FROM cg_autoscaling_decisions WHERE id IN (SELECT id FROM (SELECT id, \
             ROW_NUMBER() OVER (PARTITION BY cluster_id ORDER BY at_us DESC, id DESC) AS n \
             FROM cg_autoscaling_decisions WHERE cluster_id IN (SELECT value FROM {})) r \
             WHERE r.n > $2)",
            self.strings(1, "c")
        )
    }

    /// `$1`: the requests (JSON array). Average and count per cluster.
    pub fn metric_windows(self) -> String {
        format!(
            "SELECT w.cluster_id, COUNT(s.value), AVG(s.value) FROM {} JOIN cg_metric_samples s \
             ON s.cluster_id = w.cluster_id AND s.metric_type = w.metric_type \
             AND s.ts >= w.since GROUP BY w.cluster_id",
            self.records(1, WINDOW_COLUMNS, "w")
        )
    }
}

/// `$1`: the cluster, `$2`: the limit. Its rows, newest first.
pub const LIST: &str = "SELECT id, cluster_id, at_us, last_at_us, evaluations, trigger_kind, \
    decision, droplet_count, code, reason, inputs, job_id, event_position \
    FROM cg_autoscaling_decisions WHERE cluster_id = $1 ORDER BY at_us DESC, id DESC LIMIT $2";

/// Rows kept per cluster (the prune's `$2`).
pub fn keep() -> i64 {
    KEEP
}

/// A JSON array of cluster ids.
pub fn cluster_ids<'a>(clusters: impl IntoIterator<Item = &'a ClusterId>) -> String {
    let ids: Vec<&str> = clusters.into_iter().map(ClusterId::as_str).collect();
    json!(ids).to_string()
}

/// The plan's bumps as the JSON parameter of [`Dialect::bump`].
pub fn bumps(plan: &Plan) -> Result<String, AutoscalingStoreError> {
    let rows: Vec<Value> = plan
        .bumps
        .iter()
        .map(|(id, _, _, r)| {
            Ok(json!({
                "id": id,
                "at_us": micros(r.at),
                "trigger_kind": r.trigger.as_str(),
                "reason": r.reason,
                "inputs": serde_json::to_string(&r.inputs)?,
            }))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(Value::Array(rows).to_string())
}

/// The plan's new rows as the JSON parameter of [`Dialect::insert`].
pub fn inserts(plan: &Plan) -> Result<String, AutoscalingStoreError> {
    let rows: Vec<Value> = plan
        .inserts
        .iter()
        .map(|(id, r)| {
            Ok(json!({
                "id": id,
                "cluster_id": r.cluster_id.as_str(),
                "at_us": micros(r.at),
                "trigger_kind": r.trigger.as_str(),
                "decision": r.decision.as_str(),
                "droplet_count": r.count,
                "code": r.code.as_str(),
                "reason": r.reason,
                "inputs": serde_json::to_string(&r.inputs)?,
                "job_id": r.job_id,
                "event_position": r.event_position,
            }))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    Ok(Value::Array(rows).to_string())
}

/// The requests as the JSON parameter of [`Dialect::metric_windows`].
pub fn windows(requests: &[WindowRequest]) -> String {
    let rows: Vec<Value> = requests
        .iter()
        .map(|r| {
            json!({
                "cluster_id": r.cluster_id.as_str(),
                "metric_type": r.metric_type.as_str(),
                "since": micros(r.since),
            })
        })
        .collect();
    Value::Array(rows).to_string()
}

/// A row of [`Dialect::newest`].
pub type NewestRow = (String, String, String, String, i64, i64);

/// A newest row as the plan reads it.
pub fn newest(row: NewestRow) -> Newest {
    let (id, cluster_id, decision, code, at, evaluations) = row;
    Newest {
        id,
        cluster_id,
        decision,
        code,
        at: from_micros(at),
        evaluations: u64::try_from(evaluations).unwrap_or(1),
    }
}

/// A row of [`Dialect::metric_windows`].
pub type WindowRow = (String, i64, Option<f64>);

/// A window row as the trait answers it (`None` for a malformed cluster id).
pub fn average(row: WindowRow) -> Option<MetricAverage> {
    let (cluster, count, average) = row;
    Some(MetricAverage {
        cluster_id: ClusterId::parse(&cluster).ok()?,
        average: average?,
        samples: u64::try_from(count).ok()?,
    })
}

/// A row of [`LIST`].
pub type ListRow = (
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
);

/// A listed row as the API shows it.
pub fn listed(row: ListRow) -> Result<AutoscalingDecisionView, AutoscalingStoreError> {
    let (
        id,
        cluster_id,
        at,
        last_at,
        evaluations,
        trigger,
        decision,
        count,
        code,
        reason,
        inputs,
        job_id,
        event_position,
    ) = row;
    let bad = |what: &str, value: &str| {
        AutoscalingStoreError::Database(sqlx::Error::Decode(
            format!("unknown {what} {value:?} in cg_autoscaling_decisions").into(),
        ))
    };
    Ok(AutoscalingDecisionView {
        id,
        cluster_id,
        at: time(at),
        last_at: time(last_at),
        evaluations: u64::try_from(evaluations).unwrap_or(1),
        trigger: Trigger::parse(&trigger).ok_or_else(|| bad("trigger", &trigger))?,
        decision: ScaleDecision::parse(&decision).ok_or_else(|| bad("decision", &decision))?,
        count: u32::try_from(count).unwrap_or(0),
        code: DecisionCode::parse(&code).ok_or_else(|| bad("code", &code))?,
        reason,
        inputs: serde_json::from_str(&inputs)?,
        job_id,
        event_position,
    })
}

fn time(micros: i64) -> DateTime<Utc> {
    from_micros(micros)
}

/// The records' clusters that get a new row (to prune).
pub fn inserted_clusters(plan: &Plan) -> Vec<&ClusterId> {
    plan.inserts.iter().map(|(_, r)| &r.cluster_id).collect()
}

/// The distinct clusters of `records`.
pub fn clusters_of(records: &[DecisionRecord]) -> Vec<&ClusterId> {
    let mut seen: Vec<&ClusterId> = records.iter().map(|r| &r.cluster_id).collect();
    seen.sort();
    seen.dedup();
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_do_not_grow_with_the_rows() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            for sql in [
                dialect.newest(),
                dialect.bump(),
                dialect.insert(),
                dialect.prune(),
                dialect.metric_windows(),
            ] {
                assert!(sql.contains("$1"), "{sql}");
                assert!(!sql.contains("$3"), "{sql}");
            }
        }
        assert!(Dialect::Postgres
            .insert()
            .contains("jsonb_to_recordset($1::jsonb)"));
        assert!(Dialect::Sqlite.insert().contains("json_each($1)"));
    }
}
