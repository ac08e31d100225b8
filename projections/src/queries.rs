//! Queries over the read models: get one, and filtered, sorted, paged lists.

use std::collections::BTreeMap;

use engine::commands::Loaded;
use engine::domain::{Cluster, Droplet, Job, RateLimitRule};
use engine::views::{ClusterView, DropletView, JobView, ProviderView};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::cache::{ClusterSummary, LastJob};
use crate::{ProjectionError, ReadDb};

/// One page of a list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub page_size: u32,
    pub total: i64,
}

/// Paging and sorting, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub page: u32,
    pub page_size: u32,
    /// A column name the caller's allow-list produced (never raw input).
    pub sort_by: &'static str,
    pub descending: bool,
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
    pub status: Option<String>,
    pub job_type: Option<String>,
}

/// A WHERE clause with numbered placeholders and its text arguments.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    args: Vec<String>,
}

impl Where {
    fn eq(&mut self, column: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.args.push(value.clone());
            self.clauses
                .push(format!("{column} = ${}", self.args.len()));
        }
    }

    fn search(&mut self, column: &str, value: &Option<String>) {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            let escaped = value
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            self.args.push(format!("%{escaped}%"));
            self.clauses.push(format!(
                "LOWER({column}) LIKE ${} ESCAPE '\\'",
                self.args.len()
            ));
        }
    }

    fn raw(&mut self, clause: &str) {
        self.clauses.push(clause.to_owned());
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// Read access to the SQL read models.
#[derive(Clone, Debug)]
pub struct ReadModels {
    db: ReadDb,
}

impl ReadModels {
    /// Queries over `db`.
    pub fn new(db: ReadDb) -> Self {
        Self { db }
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
        let mut w = Where::default();
        w.raw("deleted = 0");
        w.eq("status", &f.status);
        w.search("name", &f.search);
        self.page("rm_clusters", "state", &w, p, cluster_view).await
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
        let mut w = Where::default();
        w.eq("d.cluster_id", &f.cluster_id);
        if f.status.is_some() {
            w.eq("d.status", &f.status);
        } else {
            w.raw("d.status <> 'destroyed'");
        }
        w.search("d.name", &f.search);
        let from =
            "rm_droplets d LEFT JOIN rm_droplet_cluster_names n ON n.cluster_id = d.cluster_id";
        let p = PageRequest {
            sort_by: qualified(p.sort_by),
            ..p.clone()
        };
        self.page(
            from,
            "d.state, n.name AS cluster_name",
            &w,
            &p,
            droplet_view,
        )
        .await
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
        let mut w = Where::default();
        w.eq("cluster_id", &f.cluster_id);
        w.eq("status", &f.status);
        w.eq("job_type", &f.job_type);
        self.page("rm_jobs", "state", &w, p, job_view).await
    }

    async fn page<T>(
        &self,
        from: &str,
        columns: &str,
        w: &Where,
        p: &PageRequest,
        map: fn(&AnyRow) -> Result<T, ProjectionError>,
    ) -> Result<Page<T>, ProjectionError> {
        let count_sql = format!("SELECT COUNT(*) AS n FROM {from}{}", w.sql());
        let mut count = sqlx::query(&count_sql);
        for arg in &w.args {
            count = count.bind(arg);
        }
        let total: i64 = count.fetch_one(self.db.pool()).await?.try_get("n")?;
        let dir = if p.descending { "DESC" } else { "ASC" };
        let id = if from.contains(" d ") { "d.id" } else { "id" };
        let n = w.args.len();
        let sql = format!(
            "SELECT {columns} FROM {from}{} ORDER BY {} {dir}, {id} {dir} LIMIT ${} OFFSET ${}",
            w.sql(),
            p.sort_by,
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(&sql);
        for arg in &w.args {
            query = query.bind(arg);
        }
        let offset = i64::from(p.page.saturating_sub(1)) * i64::from(p.page_size);
        let rows = query
            .bind(i64::from(p.page_size))
            .bind(offset)
            .fetch_all(self.db.pool())
            .await?;
        let items = rows.iter().map(map).collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            page: p.page,
            page_size: p.page_size,
            total,
        })
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

fn qualified(column: &'static str) -> &'static str {
    match column {
        "name" => "d.name",
        "status" => "d.status",
        "created_at" => "d.created_at",
        "id" => "d.id",
        other => other,
    }
}

fn view<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T, ProjectionError> {
    let text: String = row.try_get("view")?;
    Ok(serde_json::from_str(&text)?)
}

fn state<T: serde::de::DeserializeOwned>(row: &AnyRow) -> Result<T, ProjectionError> {
    let text: String = row.try_get("state")?;
    Ok(serde_json::from_str(&text)?)
}

/// A cluster row's view, rendered from its folded state.
fn cluster_view(row: &AnyRow) -> Result<ClusterView, ProjectionError> {
    Ok(ClusterView::from_loaded(&state::<Loaded<Cluster>>(row)?))
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
