//! Queries over the read models: get one, and filtered, sorted, paged lists.

use std::collections::BTreeMap;

use engine::domain::{Droplet, Job, RateLimitRule};
use engine::fold::Loaded;
use engine::provider::BilledAs;
use engine::views::{ClusterView, DropletView, JobView, ProviderView};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cache::{ClusterSummary, LastJob};
use crate::lists::{
    self, Counted, Cursor, Estimates, ListQuery, ListSpec, Where, DEFAULT_COUNT_BOUND,
};
use crate::read_models::billing;
use crate::read_models::list_counts::{key, ALL};
use crate::read_models::tables::{
    CLUSTER_COUNTS, DROPLET_COUNTS, JOB_COUNTS, LIVE_CLUSTER, LIVE_DROPLET,
};
use crate::read_models::TableDef;
use crate::{ProjectionError, ReadDb};

/// How often a list statement that met a schema change is run again.
const SCHEMA_RETRIES: u64 = 3;

/// Whether `error` is SQLite's `SQLITE_SCHEMA` (17): the schema changed under the statement.
fn schema_changed(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("17"))
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page number (`null` on a cursor page).
    pub page: Option<u32>,
    pub page_size: u32,
    /// How many rows the list has (`null` on a cursor page, which does not count): exact
    /// without filters or with one (a count the projections keep), else exact up to the
    /// count bound and an estimate above.
    pub total: Option<i64>,
    /// Whether `total` is an estimate.
    pub total_is_estimate: bool,
    /// Where the next page starts (`?cursor=`), or `null` after the last row.
    pub next_cursor: Option<String>,
}

/// Paging and sorting, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
    /// A column name the caller's allow-list produced (never raw input).
    pub sort_by: &'static str,
    pub descending: bool,
    /// Read after this row instead of skipping `page - 1` pages; made for this order.
    pub cursor: Option<Cursor>,
}

/// Filters of `GET /v1/clusters`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterFilter {
    pub status: Option<String>,
    pub search: Option<String>,
}

/// Filters of `GET /v1/droplets`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DropletFilter {
    pub cluster_id: Option<String>,
    pub status: Option<String>,
    pub search: Option<String>,
}

/// Filters of `GET /v1/jobs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    pub cluster_id: Option<String>,
    /// The jobs working on this droplet (`rm_jobs.droplet_id`).
    pub droplet_id: Option<String>,
    pub status: Option<String>,
    pub job_type: Option<String>,
}

const CLUSTERS: ListSpec = ListSpec {
    table: "rm_clusters",
    alias: "c",
    columns: "c.state",
    joins: "",
    search: Some("name"),
};

const DROPLETS: ListSpec = ListSpec {
    table: "rm_droplets",
    alias: "d",
    columns: "d.state, n.name AS cluster_name",
    joins: " LEFT JOIN rm_droplet_cluster_names n ON n.cluster_id = d.cluster_id",
    search: Some("name"),
};

const JOBS: ListSpec = ListSpec {
    table: "rm_jobs",
    alias: "j",
    columns: "j.state",
    joins: "",
    search: None,
};

/// Read access to the SQL read models.
#[derive(Clone, Debug)]
pub struct ReadModels {
    db: ReadDb,
    count_bound: i64,
    estimates: std::sync::Arc<Estimates>,
}

impl ReadModels {
    /// Queries over `db`.
    pub fn new(db: ReadDb) -> Self {
        Self {
            db,
            count_bound: DEFAULT_COUNT_BOUND,
            estimates: std::sync::Arc::default(),
        }
    }

    /// Lists count `total` exactly up to `bound` rows (default [`DEFAULT_COUNT_BOUND`]).
    pub fn with_count_bound(mut self, bound: i64) -> Self {
        self.count_bound = bound.max(0);
        self
    }

    /// A cluster that is not deleted.
    pub async fn cluster(&self, id: &str) -> Result<Option<ClusterView>, ProjectionError> {
        let row = sqlx::query("SELECT state FROM rm_clusters WHERE id = $1 AND deleted = 0")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| cluster_view(&r)).transpose()
    }

    /// Clusters that are not deleted.
    pub async fn clusters(
        &self,
        f: &ClusterFilter,
        p: &PageRequest,
    ) -> Result<Page<ClusterView>, ProjectionError> {
        self.run(&self.clusters_query(f, p), p, cluster_view).await
    }

    /// The statements [`clusters`](Self::clusters) runs.
    pub fn clusters_query(&self, f: &ClusterFilter, p: &PageRequest) -> ListQuery {
        let mut w = Where::default();
        w.raw(&format!("c.{LIVE_CLUSTER}"));
        w.eq("c.status", &f.status);
        w.search(&CLUSTERS, self.db.is_sqlite(), &f.search);
        let counted = match (&f.status, searched(&f.search)) {
            (None, false) => Some(ALL.to_owned()),
            (Some(status), false) => Some(key("status", status)),
            _ => None,
        };
        lists::build(
            &CLUSTERS,
            w,
            p,
            self.count_bound,
            kept(&CLUSTER_COUNTS, counted),
        )
    }

    /// A droplet (destroyed ones too), with its cluster's current name.
    pub async fn droplet(&self, id: &str) -> Result<Option<DropletView>, ProjectionError> {
        let row = sqlx::query(
            "SELECT d.state, n.name AS cluster_name FROM rm_droplets d \
             LEFT JOIN rm_droplet_cluster_names n ON n.cluster_id = d.cluster_id WHERE d.id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        row.map(|r| droplet_view(&r)).transpose()
    }

    /// Droplets; destroyed ones only when asked for by status.
    pub async fn droplets(
        &self,
        f: &DropletFilter,
        p: &PageRequest,
    ) -> Result<Page<DropletView>, ProjectionError> {
        self.run(&self.droplets_query(f, p), p, droplet_view).await
    }

    /// The statements [`droplets`](Self::droplets) runs.
    pub fn droplets_query(&self, f: &DropletFilter, p: &PageRequest) -> ListQuery {
        let mut w = Where::default();
        w.eq("d.cluster_id", &f.cluster_id);
        if f.status.is_some() {
            w.eq("d.status", &f.status);
        } else {
            w.raw(&format!("d.{LIVE_DROPLET}"));
        }
        w.search(&DROPLETS, self.db.is_sqlite(), &f.search);
        let counted = match (&f.cluster_id, &f.status, searched(&f.search)) {
            (None, None, false) => Some(ALL.to_owned()),
            (Some(cluster), None, false) => Some(key("cluster_id", cluster)),
            (None, Some(status), false) => Some(key("status", status)),
            _ => None,
        };
        lists::build(
            &DROPLETS,
            w,
            p,
            self.count_bound,
            kept(&DROPLET_COUNTS, counted),
        )
    }

    /// A job.
    pub async fn job(&self, id: &str) -> Result<Option<JobView>, ProjectionError> {
        let row = sqlx::query("SELECT state FROM rm_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| job_view(&r)).transpose()
    }

    /// Jobs.
    pub async fn jobs(
        &self,
        f: &JobFilter,
        p: &PageRequest,
    ) -> Result<Page<JobView>, ProjectionError> {
        self.run(&self.jobs_query(f, p), p, job_view).await
    }

    /// The statements [`jobs`](Self::jobs) runs.
    pub fn jobs_query(&self, f: &JobFilter, p: &PageRequest) -> ListQuery {
        let mut w = Where::default();
        if f.droplet_id.is_some() {
            // A droplet has a handful of jobs: its index finds them (in order, or sorted
            // when the planner finds that cheaper), and the other filters are checked on
            // them rather than combined with index ranges that grow with the table.
            w.eq("j.droplet_id", &f.droplet_id);
            w.eq_checked("j.cluster_id", &f.cluster_id);
            w.eq_checked("j.status", &f.status);
            w.eq_checked("j.job_type", &f.job_type);
        } else {
            w.eq("j.cluster_id", &f.cluster_id);
            w.eq("j.status", &f.status);
            w.eq("j.job_type", &f.job_type);
        }
        let counted = match (&f.droplet_id, &f.cluster_id, &f.status, &f.job_type) {
            (None, None, None, None) => Some(ALL.to_owned()),
            (None, Some(cluster), None, None) => Some(key("cluster_id", cluster)),
            (None, None, Some(status), None) => Some(key("status", status)),
            (None, None, None, Some(job_type)) => Some(key("job_type", job_type)),
            _ => None,
        };
        lists::build(&JOBS, w, p, self.count_bound, kept(&JOB_COUNTS, counted))
    }

    /// The diagnoses of a cluster, newest first unless `p` says otherwise (see
    /// [`crate::read_models::diagnoses::list`]).
    pub async fn diagnoses(
        &self,
        cluster_id: &str,
        p: &PageRequest,
    ) -> Result<Page<engine::diagnosis::DiagnosisView>, ProjectionError> {
        crate::read_models::diagnoses::list(&self.db, cluster_id, p, self.count_bound).await
    }

    /// The auto-scaling policy of a cluster, if one is set (see
    /// [`crate::read_models::autoscaling::get`]).
    pub async fn autoscaling_policy(
        &self,
        cluster_id: &str,
    ) -> Result<Option<crate::read_models::autoscaling::AutoscalingPolicyView>, ProjectionError>
    {
        crate::read_models::autoscaling::get(&self.db, cluster_id).await
    }

    /// Runs a list's statements: the page, the cursor after it, and the bounded count.
    async fn run<T>(
        &self,
        q: &ListQuery,
        p: &PageRequest,
        map: fn(&AnyRow) -> Result<T, ProjectionError>,
    ) -> Result<Page<T>, ProjectionError> {
        let mut rows = self.fetch_list(&q.sql, &q.args, q.planned_per_call).await?;
        let more = rows.len() > p.page_size as usize;
        rows.truncate(p.page_size as usize);
        let next_cursor = match rows.last().filter(|_| more) {
            Some(last) => Some(
                Cursor {
                    sort_by: p.sort_by.to_owned(),
                    descending: p.descending,
                    key: last.try_get("sort_key")?,
                    id: last.try_get("row_id")?,
                }
                .encode()?,
            ),
            None => None,
        };
        let items = rows.iter().map(map).collect::<Result<_, _>>()?;
        let (total, total_is_estimate) = match (&q.count_sql, rows.first()) {
            (None, _) => (None, false),
            (Some(_), Some(first)) if q.exact => self.total(q, first.try_get("counted")?).await?,
            // The last page, not past the end: the rows before it and its own are all.
            (Some(_), first) if !more && (first.is_some() || q.offset == 0) => {
                (Some(q.offset + rows.len() as i64), false)
            }
            (Some(sql), _) => {
                let counted = self
                    .fetch_list(sql, &q.args[..q.count_args], q.planned_per_call)
                    .await?;
                match counted.first() {
                    Some(row) => self.total(q, row.try_get("n")?).await?,
                    None => (Some(0), false),
                }
            }
        };
        Ok(Page {
            items,
            page: p.cursor.is_none().then_some(p.page),
            page_size: p.page_size,
            total,
            total_is_estimate,
            next_cursor,
        })
    }

    /// The rows of a list statement. On SQLite, a statement that meets a schema change
    /// (`SQLITE_SCHEMA`: a rebuild swapped tables in, any projection's) may fail once its
    /// search table is in it; it is run again, a few times, as SQLite advises.
    ///
    /// A statement `planned_per_call` is not kept prepared: PostgreSQL plans an unnamed
    /// statement with its arguments each time. A kept one may switch to a generic plan
    /// after five calls, and the generic plan of a search cannot see its pattern: it
    /// guesses that 0.5% of the rows match and walks the sort's index, filtering, until
    /// it has a page, which for a name matching once means every row of the table (83 ms
    /// at 113,000 clusters, against 2 ms through the search index).
    async fn fetch_list(
        &self,
        sql: &str,
        args: &[String],
        planned_per_call: bool,
    ) -> Result<Vec<AnyRow>, ProjectionError> {
        let mut retries = 0;
        loop {
            let mut query = sqlx::query(sql).persistent(!planned_per_call);
            for arg in args {
                query = query.bind(arg);
            }
            match query.fetch_all(self.db.pool()).await {
                Err(error) if retries < SCHEMA_RETRIES && schema_changed(&error) => {
                    retries += 1;
                    tracing::debug!(%error, retries, "list statement met a schema change; running it again");
                    tokio::time::sleep(std::time::Duration::from_millis(5 * retries)).await;
                }
                result => return Ok(result?),
            }
        }
    }

    /// `total` from the bounded count: exact up to the bound, else estimated.
    async fn total(
        &self,
        q: &ListQuery,
        counted: i64,
    ) -> Result<(Option<i64>, bool), ProjectionError> {
        if q.exact || counted <= self.count_bound {
            return Ok((Some(counted), false));
        }
        let estimate = if self.db.is_sqlite() {
            None
        } else {
            let args = &q.args[..q.count_args];
            let key = Estimates::key(&q.from_where, args);
            match self.estimates.get(&key) {
                Some(rows) => Some(rows),
                None => {
                    let rows = self.planner_rows(&q.from_where, args).await?;
                    if let Some(rows) = rows {
                        self.estimates.put(key, rows);
                    }
                    rows
                }
            }
        };
        Ok((Some(estimate.unwrap_or(0).max(counted)), true))
    }

    /// PostgreSQL's estimate of the rows of `SELECT 1 <from_where>` (from `EXPLAIN`).
    async fn planner_rows(
        &self,
        from_where: &str,
        args: &[String],
    ) -> Result<Option<i64>, ProjectionError> {
        let sql = format!("EXPLAIN SELECT 1 AS one {from_where}");
        let mut explain = sqlx::query(&sql);
        for arg in args {
            explain = explain.bind(arg);
        }
        let Some(first) = explain.fetch_optional(self.db.pool()).await? else {
            return Ok(None);
        };
        let line: String = first.try_get(0)?;
        Ok(planned_rows(&line))
    }

    /// The summary of a cluster that is not deleted, computed from the rows (the SQL
    /// fallback of the cache's summary; the same answer at the same position).
    pub async fn cluster_summary(
        &self,
        id: &str,
    ) -> Result<Option<ClusterSummary>, ProjectionError> {
        let row = sqlx::query(
            "SELECT c.state, c.last_position, \
             (SELECT MAX(d.last_position) FROM rm_droplets d WHERE d.cluster_id = c.id) AS droplets_at, \
             (SELECT MAX(j.last_position) FROM rm_jobs j WHERE j.cluster_id = c.id) AS jobs_at \
             FROM rm_clusters c WHERE c.id = $1 AND c.deleted = 0",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let cluster = cluster_view(&row)?;
        let position = [
            Some(row.try_get::<i64, _>("last_position")?),
            row.try_get::<Option<i64>, _>("droplets_at")?,
            row.try_get::<Option<i64>, _>("jobs_at")?,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        let counts = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM rm_droplets WHERE cluster_id = $1 GROUP BY status",
        )
        .bind(id)
        .fetch_all(self.db.pool())
        .await?;
        let mut droplets_by_status = BTreeMap::new();
        for count in counts {
            let n: i64 = count.try_get("n")?;
            droplets_by_status.insert(count.try_get("status")?, u64::try_from(n).unwrap_or(0));
        }
        let last = sqlx::query(
            "SELECT state FROM rm_jobs WHERE cluster_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        let last_job = last.map(|r| job_view(&r)).transpose()?.map(|j| LastJob {
            id: j.id,
            job_type: j.job_type,
            status: j.status,
            progress: j.progress,
        });
        Ok(Some(ClusterSummary {
            cluster_id: cluster.id,
            name: cluster.name,
            status: cluster.status,
            droplet_count: cluster.droplet_count,
            droplets_by_status,
            last_job,
            position,
        }))
    }

    /// Registered provider configurations, by name.
    pub async fn providers(&self) -> Result<Vec<ProviderView>, ProjectionError> {
        let rows = sqlx::query("SELECT view FROM rm_providers ORDER BY id")
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(view).collect()
    }

    /// Droplets that are neither destroyed nor failed, of one cluster or (None) of all:
    /// what billing and provider usage count.
    pub async fn billable_droplets(
        &self,
        cluster_id: Option<&str>,
    ) -> Result<Vec<DropletView>, ProjectionError> {
        let mut sql =
            "SELECT state FROM rm_droplets WHERE status NOT IN ('destroyed', 'failed')".to_owned();
        if cluster_id.is_some() {
            sql.push_str(" AND cluster_id = $1");
        }
        sql.push_str(" ORDER BY created_at, id");
        let mut query = sqlx::query(&sql);
        if let Some(id) = cluster_id {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        rows.iter()
            .map(|row| Ok(DropletView::from_loaded(&state(row)?, None)))
            .collect()
    }

    /// The fleet's billed droplets counted per provider, region and size (groups with
    /// none left included, at 0), and the position of the last event that changed a
    /// count: a few hundred rows at most, however many droplets there are.
    pub async fn billing_totals(&self) -> Result<(Vec<(BilledAs, usize)>, i64), ProjectionError> {
        let mut conn = self.db.pool().acquire().await?;
        let table = crate::read_models::tables::BILLING_TOTALS.name;
        let (groups, position) = billing::stored(&mut conn, table).await?;
        let counts = groups
            .into_iter()
            .map(|(group, (count, _))| (group, usize::try_from(count).unwrap_or(0)))
            .collect();
        Ok((counts, position))
    }

    /// The rate-limit rules set through the API (not deleted), by name.
    pub async fn ratelimit_rules(&self) -> Result<Vec<Loaded<RateLimitRule>>, ProjectionError> {
        let rows =
            sqlx::query("SELECT state FROM rm_ratelimit_rules WHERE configured = 1 ORDER BY id")
                .fetch_all(self.db.pool())
                .await?;
        rows.iter().map(state).collect()
    }

    /// The stream of rule `name` as folded (set or deleted), if it has events.
    pub async fn ratelimit_rule(
        &self,
        name: &str,
    ) -> Result<Option<Loaded<RateLimitRule>>, ProjectionError> {
        let row = sqlx::query("SELECT state FROM rm_ratelimit_rules WHERE id = $1")
            .bind(name)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| state(&r)).transpose()
    }

    /// Ids of jobs that are not finished (oldest first).
    pub async fn unfinished_jobs(&self) -> Result<Vec<String>, ProjectionError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM rm_jobs WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out') \
             ORDER BY created_at",
        )
        .fetch_all(self.db.pool())
        .await?)
    }
}

/// The `rows=N` of an `EXPLAIN` plan line.
fn planned_rows(line: &str) -> Option<i64> {
    let rest = line.split("rows=").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn view<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T, ProjectionError> {
    let text: String = row.try_get("view")?;
    Ok(serde_json::from_str(&text)?)
}

/// The kept count `key` (if any) of the list counted in `def`.
fn kept(def: &TableDef, key: Option<String>) -> Option<Counted> {
    key.map(|key| Counted {
        table: def.name,
        key,
    })
}

/// Whether a `?search=` is given (an empty one is none).
fn searched(search: &Option<String>) -> bool {
    search.as_deref().is_some_and(|s| !s.is_empty())
}

fn state<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T, ProjectionError> {
    let text: String = row.try_get("state")?;
    Ok(serde_json::from_str(&text)?)
}

/// A cluster row's view, rendered from its folded state.
fn cluster_view(row: &AnyRow) -> Result<ClusterView, ProjectionError> {
    let text: String = row.try_get("state")?;
    Ok(ClusterView::from_stored(&text)?)
}

/// A droplet row's view, with the cluster name the query joined in.
fn droplet_view(row: &AnyRow) -> Result<DropletView, ProjectionError> {
    Ok(DropletView::from_loaded(
        &state::<Loaded<Droplet>>(row)?,
        row.try_get("cluster_name")?,
    ))
}

/// A job row's view.
fn job_view(row: &AnyRow) -> Result<JobView, ProjectionError> {
    Ok(JobView::from_loaded(&state::<Loaded<Job>>(row)?))
}
