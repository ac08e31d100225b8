//! The statements both backends run, in the dialect they share (`$n` placeholders,
//! integer microseconds, `CAST`, window functions, row values), and the rows they read.
//! Only inserting differs (arrays on PostgreSQL, a transaction of multi-row inserts on
//! SQLite); see [`super::postgres`] and [`super::sqlite`].

use chrono::{DateTime, Utc};

use super::model::{MetricSample, MetricType, SeriesPoint, SeriesQuery, WindowSummary};
use super::reads::{SampleFilter, SamplePage, SamplePageRequest, SampleStart, StoredSample};
use super::rollup::{from_micros, micros, MINUTE_MICROS};
use crate::domain::{ClusterId, DropletId};

/// A statement argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// A statement and its arguments (`$1`…).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub args: Vec<Arg>,
}

/// Binds a [`Statement`]'s arguments to a `sqlx` query of either backend.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                $crate::metrics::sql::Arg::Text(value) => query.bind(value.clone()),
                $crate::metrics::sql::Arg::Int(value) => query.bind(*value),
            };
        }
        query
    }};
}
pub(crate) use bind_args;

/// A WHERE clause under construction.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn push(&mut self, clause: impl FnOnce(usize) -> String, arg: Arg) {
        self.args.push(arg);
        let n = self.args.len();
        self.clauses.push(clause(n));
    }

    fn text(&mut self, column: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.push(|n| format!("{column} = ${n}"), Arg::Text(value.to_owned()));
        }
    }

    fn sql(&self) -> String {
        match self.clauses.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", self.clauses.join(" AND ")),
        }
    }
}

/// A row of [`window_summaries`]: cluster, type, count, avg, min, max, first ts, last ts,
/// last value.
pub type SummaryRow = (String, String, i64, f64, f64, f64, i64, i64, f64);

/// Per cluster and type, the samples from `since` on; the newest value by `ts`, then id.
pub fn window_summaries(since: DateTime<Utc>, cluster: Option<&ClusterId>) -> Statement {
    let mut w = Where::default();
    w.push(|n| format!("ts >= ${n}"), Arg::Int(micros(since)));
    w.text("cluster_id", cluster.map(ClusterId::as_str));
    let sql = format!(
        "SELECT cluster_id, metric_type, COUNT(*), AVG(value), MIN(value), MAX(value), \
         MIN(ts), MAX(ts), MAX(CASE WHEN newest = 1 THEN value END) \
         FROM (SELECT cluster_id, metric_type, value, ts, ROW_NUMBER() OVER \
         (PARTITION BY cluster_id, metric_type ORDER BY ts DESC, id DESC) AS newest \
         FROM cg_metric_samples{}) s GROUP BY cluster_id, metric_type \
         ORDER BY cluster_id, metric_type",
        w.sql()
    );
    Statement { sql, args: w.args }
}

/// A summary row as the trait answers it.
pub fn summary(row: SummaryRow) -> Result<WindowSummary, sqlx::Error> {
    let (cluster, kind, count, avg, min, max, first, last_at, last) = row;
    Ok(WindowSummary {
        cluster_id: cluster_id(&cluster)?,
        metric_type: metric_type(&kind)?,
        count: u64::try_from(count).unwrap_or(0),
        avg,
        min,
        max,
        last,
        first_at: from_micros(first),
        last_at: from_micros(last_at),
    })
}

/// A row of [`series`]: bucket start, count, sum, min, max.
pub type SeriesRow = (i64, i64, f64, f64, f64);

/// Whether a series at `step_seconds` reads the per-minute rollups (a step of a minute
/// or more that is a whole number of minutes) rather than the raw samples.
pub fn reads_rollups(step_seconds: u32) -> bool {
    step_seconds >= 60 && step_seconds.is_multiple_of(60)
}

/// A series: buckets of `step` aligned on the epoch, oldest first. From the rollups when
/// [`reads_rollups`] (the window then covers the whole minutes it touches), else from the
/// raw samples in `[since, until)`.
pub fn series(query: &SeriesQuery) -> Statement {
    let step = i64::from(query.step_seconds.max(1)) * 1_000_000;
    let rollups = reads_rollups(query.step_seconds);
    let (table, at, count, sum, min, max) = match rollups {
        true => (
            "cg_metric_rollups",
            "minute",
            "CAST(SUM(count) AS BIGINT)",
            "SUM(sum)",
            "MIN(min)",
            "MAX(max)",
        ),
        false => (
            "cg_metric_samples",
            "ts",
            "COUNT(*)",
            "SUM(value)",
            "MIN(value)",
            "MAX(value)",
        ),
    };
    let since = micros(query.since);
    let since = match rollups {
        true => super::rollup::bucket_start(since, MINUTE_MICROS),
        false => since,
    };
    let mut w = Where::default();
    w.text(
        "cluster_id",
        query.cluster_id.as_ref().map(ClusterId::as_str),
    );
    w.text(
        "droplet_id",
        query.droplet_id.as_ref().map(DropletId::as_str),
    );
    w.text("metric_type", Some(query.metric_type.as_str()));
    w.push(|n| format!("{at} >= ${n}"), Arg::Int(since));
    w.push(|n| format!("{at} < ${n}"), Arg::Int(micros(query.until)));
    let n = w.args.len() + 1;
    w.args.push(Arg::Int(step));
    let sql = format!(
        "SELECT {at} - {at} % ${n} AS bucket, {count}, {sum}, {min}, {max} \
         FROM {table}{} GROUP BY bucket ORDER BY bucket",
        w.sql()
    );
    Statement { sql, args: w.args }
}

/// A series row as the trait answers it.
pub fn point(row: SeriesRow) -> SeriesPoint {
    let (bucket, count, sum, min, max) = row;
    SeriesPoint {
        t: from_micros(bucket),
        avg: if count > 0 { sum / count as f64 } else { 0.0 },
        min,
        max,
        count: u64::try_from(count).unwrap_or(0),
    }
}

/// A row of the list: id, cluster, droplet, type, value, ts.
pub type SampleRow = (i64, String, Option<String>, String, f64, i64);

fn list_where(filter: &SampleFilter) -> Where {
    let mut w = Where::default();
    w.text("cluster_id", filter.cluster_id.as_deref());
    w.text("droplet_id", filter.droplet_id.as_deref());
    w.text("metric_type", filter.metric_type.map(MetricType::as_str));
    if let Some(since) = filter.since {
        w.push(|n| format!("ts >= ${n}"), Arg::Int(micros(since)));
    }
    if let Some(until) = filter.until {
        w.push(|n| format!("ts < ${n}"), Arg::Int(micros(until)));
    }
    w
}

/// A page of the list, newest first: `page_size + 1` rows (the extra one says more
/// follow), read in the order of the index the filters pick, never sorted.
pub fn list(filter: &SampleFilter, page: &SamplePageRequest) -> Statement {
    let mut w = list_where(filter);
    let offset = match page.start {
        SampleStart::Page(n) => i64::from(n.max(1) - 1) * i64::from(page.page_size),
        SampleStart::After { ts, id } => {
            w.args.push(Arg::Int(ts));
            w.args.push(Arg::Int(id));
            let n = w.args.len();
            w.clauses.push(format!("(ts, id) < (${}, ${n})", n - 1));
            0
        }
    };
    let sql = format!(
        "SELECT id, cluster_id, droplet_id, metric_type, value, ts FROM cg_metric_samples{} \
         ORDER BY ts DESC, id DESC LIMIT {} OFFSET {offset}",
        w.sql(),
        i64::from(page.page_size) + 1
    );
    Statement { sql, args: w.args }
}

/// The list's bounded count: at most `bound + 1` rows are counted.
pub fn count(filter: &SampleFilter, bound: i64) -> Statement {
    let w = list_where(filter);
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM cg_metric_samples{} LIMIT {}) c",
        w.sql(),
        bound.max(0) + 1
    );
    Statement { sql, args: w.args }
}

/// A list row as a stored sample.
pub fn stored(row: SampleRow) -> Result<StoredSample, sqlx::Error> {
    let (id, cluster, droplet, kind, value, ts) = row;
    Ok(StoredSample {
        id,
        sample: MetricSample {
            cluster_id: cluster_id(&cluster)?,
            droplet_id: droplet.as_deref().map(droplet_id).transpose()?,
            metric_type: metric_type(&kind)?,
            value,
            timestamp: from_micros(ts),
        },
    })
}

/// The rows of a list page (`page_size + 1` read) and its count as a [`SamplePage`].
pub fn page_of(
    rows: Vec<SampleRow>,
    page: &SamplePageRequest,
    counted: Option<i64>,
) -> Result<SamplePage, super::model::MetricsError> {
    let more = rows.len() > page.page_size as usize;
    let items = rows
        .into_iter()
        .take(page.page_size as usize)
        .map(stored)
        .collect::<Result<Vec<_>, _>>()?;
    let bound = page.count_bound.max(0);
    Ok(SamplePage {
        items,
        more,
        total: counted.map(|n| n.min(bound)),
        total_is_estimate: counted.is_some_and(|n| n > bound),
    })
}

fn decode(error: crate::domain::ValidationError) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

fn cluster_id(raw: &str) -> Result<ClusterId, sqlx::Error> {
    ClusterId::parse(raw).map_err(decode)
}

fn droplet_id(raw: &str) -> Result<DropletId, sqlx::Error> {
    DropletId::parse(raw).map_err(decode)
}

fn metric_type(raw: &str) -> Result<MetricType, sqlx::Error> {
    MetricType::parse(raw).map_err(decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(step_seconds: u32) -> SeriesQuery {
        SeriesQuery {
            cluster_id: Some(ClusterId::new()),
            droplet_id: None,
            metric_type: MetricType::Cpu,
            since: DateTime::from_timestamp(90, 0).unwrap(),
            until: DateTime::from_timestamp(600, 0).unwrap(),
            step_seconds,
        }
    }

    #[test]
    fn whole_minute_steps_read_the_rollups_and_shorter_ones_the_samples() {
        assert!(series(&query(60)).sql.contains("FROM cg_metric_rollups"));
        assert!(series(&query(3600)).sql.contains("FROM cg_metric_rollups"));
        assert!(series(&query(10)).sql.contains("FROM cg_metric_samples"));
        assert!(series(&query(90)).sql.contains("FROM cg_metric_samples"));
    }

    #[test]
    fn a_rollup_series_covers_the_whole_minutes_it_touches() {
        let statement = series(&query(60));
        assert!(
            statement.args.contains(&Arg::Int(60_000_000)),
            "{statement:?}"
        );
        let raw = series(&query(10));
        assert!(raw.args.contains(&Arg::Int(90_000_000)), "{raw:?}");
    }

    #[test]
    fn a_cursor_page_reads_after_its_row_and_skips_nothing() {
        let page = SamplePageRequest {
            start: SampleStart::After { ts: 5, id: 9 },
            page_size: 20,
            count_bound: 1000,
        };
        let statement = list(&SampleFilter::default(), &page);
        assert!(
            statement.sql.contains("(ts, id) < ($1, $2)"),
            "{}",
            statement.sql
        );
        assert!(
            statement.sql.ends_with("LIMIT 21 OFFSET 0"),
            "{}",
            statement.sql
        );
    }
}
