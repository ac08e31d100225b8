//! The list queries are served from indexes and page correctly, on SQLite and PostgreSQL:
//! - every list shape (no filter, each filter, search, each sort, cursor) plans without a
//!   scan of a whole read-model table (PostgreSQL `EXPLAIN` after 20k rows and `ANALYZE`;
//!   SQLite `EXPLAIN QUERY PLAN`), and the sorted shapes without a sort step (a droplet's
//!   jobs: through the droplet's index alone, their sort, if any, bounded by its jobs);
//! - a cursor walk reads every row once, in the order of the page-number walk, in both
//!   directions and over ties on the sort column;
//! - `total` is exact up to the bound and flagged as an estimate above it;
//! - search finds substrings case-insensitively and takes `%` and `_` literally;
//! - the live tables carry every declared index;
//! - (PostgreSQL) the trigram indexes' pending lists stay within their limit, and the
//!   runtime merges what its worker wrote into them without waiting for the limit.

mod common;

use common::Stores;
use engine::domain::{Cluster, Droplet, Job};
use engine::fold::Loaded;
use projections::read_models::list_counts;
use projections::read_models::tables::{CLUSTERS, DROPLETS, JOBS, RATELIMIT_RULES};
use projections::{
    ClusterFilter, Cursor, DropletFilter, JobFilter, ListQuery, PageRequest, ReadDb, ReadModels,
};
use sqlx::Row;
use test_support::{on_both_backends, Backend};

/// `CASE i % len WHEN 0 THEN values[0] … END AS column`.
fn pick(column: &str, values: &[&str]) -> String {
    let arms: String = values
        .iter()
        .enumerate()
        .map(|(k, v)| format!(" WHEN {k} THEN '{v}'"))
        .collect();
    format!("CASE i % {} {arms} END AS {column}", values.len())
}

/// Inserts `n` clusters, droplets and jobs with many ties on every sort column.
async fn fill(db: &ReadDb, n: i64) {
    let cluster = serde_json::to_string(&Loaded::<Cluster>::default()).unwrap();
    let droplet = serde_json::to_string(&Loaded::<Droplet>::default()).unwrap();
    let job = serde_json::to_string(&Loaded::<Job>::default()).unwrap();
    let created = "'2026-01-01T00:00:' || (10 + i % 50)";
    let cluster_of = "'cl_' || (1000000 + i % 7)";
    let tables = [
        (
            "rm_clusters (id, name, region, status, deleted, created_at, state, last_position)",
            format!(
                "'cl_' || (1000000 + i), 'Web-' || (i % 97) || '_x%' || (i % 7), {}, {}, \
                 CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, {created}, '{cluster}', i",
                pick("region", &["nyc1", "tor1", "sfo3", "ams3"]),
                pick("status", &["healthy", "warning", "critical"]),
            ),
        ),
        (
            "rm_droplets (id, cluster_id, name, status, created_at, state, last_position)",
            format!(
                "'dr_' || (1000000 + i), {cluster_of}, 'node-' || (i % 61), {}, {created}, \
                 '{droplet}', i",
                pick(
                    "status",
                    &["active", "destroyed", "off", "destroyed", "queued"]
                ),
            ),
        ),
        (
            "rm_jobs (id, job_type, cluster_id, status, created_at, state, last_position, \
             droplet_id)",
            format!(
                "'job_' || (1000000 + i), {}, {cluster_of}, {}, {created}, '{job}', i, \
                 CASE WHEN i % 4 = 3 THEN '' ELSE 'dr_' || (1000000 + i % 97) END",
                pick("job_type", &["provision", "destroy", "resize", "monitor"]),
                pick(
                    "status",
                    &["succeeded", "failed", "running", "succeeded", "queued"]
                ),
            ),
        ),
        (
            "rm_droplet_cluster_names (cluster_id, name, last_position)",
            "'cl_' || (1000000 + i), 'c' || i, i".to_owned(),
        ),
    ];
    for (into, select) in tables {
        let sql = format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
             INSERT INTO {into} SELECT {select} FROM s"
        );
        sqlx::query(&sql).execute(db.pool()).await.unwrap();
    }
    // The rows were not written by the projections: count them as these would have.
    list_counts::recount(db).await.unwrap();
    let analyze = if db.is_sqlite() {
        "ANALYZE"
    } else {
        "VACUUM ANALYZE"
    };
    sqlx::query(analyze).execute(db.pool()).await.unwrap();
}

fn request(sort_by: &'static str, descending: bool, cursor: Option<Cursor>) -> PageRequest {
    PageRequest {
        page: 1,
        page_size: 20,
        sort_by,
        descending,
        cursor,
    }
}

fn some(value: &str) -> Option<String> {
    Some(value.to_owned())
}

/// Every list shape the API can build, with a cursor and without.
fn shapes(read: &ReadModels) -> Vec<(String, ListQuery)> {
    let mut all = Vec::new();
    // A cursor as a page would hand it out: a key of the list's sort column.
    let cursor = |sort_by: &str, descending| Cursor {
        sort_by: sort_by.to_owned(),
        descending,
        key: match sort_by {
            "created_at" => "2026-01-01T00:00:30",
            "name" => "@name",
            "region" => "sfo3",
            "status" => "off",
            _ => "job_1000500",
        }
        .to_owned(),
        id: "x_1000500".to_owned(),
    };
    let named = |mut cursor: Cursor, name: &str| {
        if cursor.key == "@name" {
            cursor.key = name.to_owned();
        }
        cursor
    };
    for descending in [false, true] {
        for paging in [None, Some(())] {
            let at = |sort_by: &'static str, name: &str| {
                let cursor = paging.map(|_| named(cursor(sort_by, descending), name));
                request(sort_by, descending, cursor)
            };
            for sort_by in ["created_at", "name", "region"] {
                for filter in [
                    ClusterFilter::default(),
                    ClusterFilter {
                        status: some("warning"),
                        ..ClusterFilter::default()
                    },
                ] {
                    let req = at(sort_by, "Web-50_x%3");
                    let name = format!("clusters {filter:?} {req:?}");
                    all.push((name, read.clusters_query(&filter, &req)));
                }
            }
            for sort_by in ["created_at", "name", "status"] {
                for (cluster_id, status) in [
                    (None, None),
                    (some("cl_1000003"), None),
                    (None, some("destroyed")),
                    (some("cl_1000003"), some("active")),
                ] {
                    let filter = DropletFilter {
                        cluster_id,
                        status,
                        search: None,
                    };
                    let req = at(sort_by, "node-30");
                    let name = format!("droplets {filter:?} {req:?}");
                    all.push((name, read.droplets_query(&filter, &req)));
                }
            }
            for sort_by in ["created_at", "id"] {
                for filter in job_filters() {
                    let mut req = at(sort_by, "");
                    // Within a droplet's few jobs the cursor's id is a job's, not one past
                    // every id (which would make any index's range empty).
                    if let (Some(cursor), Some(_)) = (req.cursor.as_mut(), &filter.droplet_id) {
                        cursor.id = "job_1000500".to_owned();
                    }
                    let name = format!("jobs {filter:?} {req:?}");
                    all.push((name, read.jobs_query(&filter, &req)));
                }
            }
        }
    }
    all
}

fn job_filters() -> Vec<JobFilter> {
    let mut all = Vec::new();
    for cluster_id in [None, some("cl_1000003")] {
        for status in [None, some("running")] {
            for job_type in [None, some("resize")] {
                all.push(JobFilter {
                    cluster_id: cluster_id.clone(),
                    droplet_id: None,
                    status: status.clone(),
                    job_type,
                });
            }
        }
    }
    // A droplet has few jobs: its own index serves it with any other filter.
    for (cluster_id, status, job_type) in [
        (None, None, None),
        (None, some("running"), None),
        (None, None, some("resize")),
        (some("cl_1000003"), some("failed"), some("monitor")),
    ] {
        all.push(JobFilter {
            cluster_id,
            droplet_id: some("dr_1000042"),
            status,
            job_type,
        });
    }
    all
}

/// The searching shapes (sorted after the search, so a sort step is allowed). Selective
/// searches: for one that most rows match, reading the sort's index is the better plan.
fn searches(read: &ReadModels) -> Vec<(String, ListQuery)> {
    let mut all = Vec::new();
    for search in ["b-42_x%3", "EB-96_", "x", "zq"] {
        for status in [None, some("critical")] {
            let filter = ClusterFilter {
                status,
                search: some(search),
            };
            let name = format!("clusters {filter:?}");
            all.push((
                name,
                read.clusters_query(&filter, &request("name", false, None)),
            ));
        }
        let filter = DropletFilter {
            search: some(search),
            ..DropletFilter::default()
        };
        let name = format!("droplets {filter:?}");
        all.push((
            name,
            read.droplets_query(&filter, &request("name", true, None)),
        ));
    }
    all
}

/// The plan of `sql` with `args`, one line per step.
async fn plan(db: &ReadDb, sql: &str, args: &[String]) -> Vec<String> {
    let explain = if db.is_sqlite() {
        format!("EXPLAIN QUERY PLAN {sql}")
    } else {
        format!("EXPLAIN {sql}")
    };
    let mut query = sqlx::query(&explain);
    for arg in args {
        query = query.bind(arg);
    }
    let rows = query.fetch_all(db.pool()).await.unwrap();
    let column = if db.is_sqlite() { 3 } else { 0 };
    rows.iter()
        .map(|r| r.try_get::<String, _>(column).unwrap())
        .collect()
}

/// The steps of `plan` that read a read-model table whole.
fn table_scans(db: &ReadDb, plan: &[String]) -> Vec<String> {
    plan.iter()
        .filter(|line| {
            if db.is_sqlite() {
                let table = line.strip_prefix("SCAN ").and_then(|l| l.split(' ').next());
                let read_model = matches!(table, Some("c" | "d" | "j" | "n"))
                    || table.is_some_and(|t| t.starts_with("rm_"));
                read_model && !line.contains(" USING ")
            } else {
                // A count table is read by key; while it holds a page of rows, PostgreSQL
                // reads that page whole, which costs the same.
                line.contains("Seq Scan on rm_") && !line.contains("_counts ")
            }
        })
        .cloned()
        .collect()
}

fn sorts(db: &ReadDb, plan: &[String]) -> bool {
    plan.iter().any(|line| {
        if db.is_sqlite() {
            line.contains("TEMP B-TREE")
        } else {
            line.trim_start_matches([' ', '-', '>']).starts_with("Sort")
        }
    })
}

async fn list_queries_use_indexes(backend: &Stores) {
    let db = &backend.db;
    fill(db, 20_000).await;
    let read = ReadModels::new(db.clone());
    for (name, q) in shapes(&read) {
        // Kept prepared, with the plan PostgreSQL caches for it.
        assert!(!q.planned_per_call, "{name}: no search");
        let page = plan(db, &q.sql, &q.args).await;
        assert!(
            table_scans(db, &page).is_empty(),
            "{name}: {}\n{}",
            q.sql,
            page.join("\n")
        );
        // A droplet's jobs are found by its index, whatever else is filtered: the rows
        // read (and sorted, where the planner finds that cheaper than reading them in
        // order) are that droplet's few jobs, never a range that grows with the table.
        let of_droplet = name.contains("droplet_id: Some");
        assert!(
            of_droplet || !sorts(db, &page),
            "{name} sorts: {}\n{}",
            q.sql,
            page.join("\n")
        );
        if of_droplet {
            assert!(
                page.iter().any(|step| step.contains("rm_jobs_droplet_")),
                "{name} reads the droplet's index: {}\n{}",
                q.sql,
                page.join("\n")
            );
        }
        if let Some(count) = &q.count_sql {
            let counted = plan(db, count, &q.args[..q.count_args]).await;
            assert!(
                table_scans(db, &counted).is_empty(),
                "{name}: {count}\n{}",
                counted.join("\n")
            );
            // PostgreSQL counts from the index alone, not from the (wide) rows. (SQLite
            // checks a partial index's predicate column in the row.)
            // (A filter written `column || ''`, which no index serves, reads a droplet's
            // few rows on purpose.)
            // A kept count (see `read_models::list_counts`) is a read by key.
            if q.exact {
                assert!(count.contains("_counts WHERE id = $"), "{name}: {count}");
            } else if !db.is_sqlite() && !count.contains("|| ''") {
                // Upwards: from the oldest entries, which the vacuum marked all-visible.
                let index_only = counted.iter().any(|s| s.contains("Index Only Scan"))
                    && !counted.iter().any(|s| s.contains("Backward"));
                assert!(index_only, "{name}: {count}\n{}", counted.join("\n"));
            }
        }
    }
    for (name, q) in searches(&read) {
        // Its pattern decides its plan: never a cached generic one (see
        // `ReadModels::fetch_list`), which would walk the name index and filter every row.
        assert!(q.planned_per_call, "{name}: planned with its pattern");
        for (sql, args) in [
            (&q.sql, &q.args[..]),
            (q.count_sql.as_ref().unwrap(), &q.args[..q.count_args]),
        ] {
            let steps = plan(db, sql, args).await;
            assert!(
                table_scans(db, &steps).is_empty(),
                "{name}: {sql}\n{}",
                steps.join("\n")
            );
            let searched = if db.is_sqlite() {
                steps
                    .iter()
                    .any(|s| s.contains("VIRTUAL TABLE") || s.contains("prefix"))
            } else {
                steps.iter().any(|s| s.contains("_search_"))
            };
            // With another filter too, either index may be the better start.
            assert!(
                searched || name.contains("status: Some"),
                "{name} uses its search index: {sql}\n{}",
                steps.join("\n")
            );
        }
    }
    for sql in [
        "SELECT id FROM rm_ratelimit_rules WHERE configured = 1 ORDER BY id",
        "SELECT id FROM rm_providers ORDER BY id",
        "SELECT id FROM rm_dead_letters ORDER BY projection, position",
        "SELECT id FROM rm_dead_letters WHERE projection = 'jobs' ORDER BY projection, position",
    ] {
        let steps = plan(db, sql, &[]).await;
        // Tiny tables: PostgreSQL rightly reads them whole; SQLite must not sort.
        if db.is_sqlite() {
            assert!(!sorts(db, &steps), "{sql}\n{}", steps.join("\n"));
        }
    }
}
on_both_backends!(list_queries_use_indexes, super::list_queries_use_indexes);

/// Runs `q` and returns its rows' (sort key, id).
async fn keys(db: &ReadDb, q: &ListQuery) -> Vec<(String, String)> {
    let mut query = sqlx::query(&q.sql);
    for arg in &q.args {
        query = query.bind(arg);
    }
    let rows = query.fetch_all(db.pool()).await.unwrap();
    rows.iter()
        .map(|r| (r.try_get("sort_key").unwrap(), r.try_get("row_id").unwrap()))
        .collect()
}

/// Walks a list page by page with `query(page, cursor)`, by cursor or by page number.
async fn walk(
    db: &ReadDb,
    by_cursor: bool,
    query: impl Fn(u32, Option<Cursor>) -> ListQuery,
    sort_by: &str,
    descending: bool,
) -> Vec<String> {
    let (mut ids, mut cursor, mut page) = (Vec::new(), None, 1);
    loop {
        let mut rows = keys(db, &query(page, cursor.clone())).await;
        let more = rows.len() > 7;
        rows.truncate(7);
        ids.extend(rows.iter().map(|(_, id)| id.clone()));
        let Some((key, id)) = rows.last().filter(|_| more) else {
            return ids;
        };
        page += 1;
        if by_cursor {
            let next = Cursor {
                sort_by: sort_by.to_owned(),
                descending,
                key: key.clone(),
                id: id.clone(),
            };
            // What the API hands out and reads back.
            cursor = Some(Cursor::decode(&next.encode().unwrap()).unwrap());
        }
    }
}

async fn cursor_walks_equal_page_walks(backend: &Stores) {
    let db = &backend.db;
    fill(db, 600).await;
    let read = ReadModels::new(db.clone());
    let exact = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            let n: i64 = sqlx::query_scalar(&sql).fetch_one(db.pool()).await.unwrap();
            n as usize
        }
    };
    for descending in [false, true] {
        for sort_by in ["created_at", "name", "region"] {
            let filter = ClusterFilter::default();
            let query = |page, cursor| {
                let p = PageRequest {
                    page,
                    page_size: 7,
                    sort_by,
                    descending,
                    cursor,
                };
                read.clusters_query(&filter, &p)
            };
            let by_cursor = walk(db, true, query, sort_by, descending).await;
            let by_page = walk(db, false, query, sort_by, descending).await;
            assert_eq!(
                by_cursor, by_page,
                "clusters by {sort_by} desc={descending}"
            );
            assert_eq!(
                by_cursor.len(),
                exact("SELECT COUNT(*) FROM rm_clusters WHERE deleted = 0").await
            );
        }
        for sort_by in ["created_at", "name", "status"] {
            let filter = DropletFilter {
                cluster_id: some("cl_1000003"),
                ..DropletFilter::default()
            };
            let query = |page, cursor| {
                let p = PageRequest {
                    page,
                    page_size: 7,
                    sort_by,
                    descending,
                    cursor,
                };
                read.droplets_query(&filter, &p)
            };
            let by_cursor = walk(db, true, query, sort_by, descending).await;
            assert_eq!(by_cursor, walk(db, false, query, sort_by, descending).await);
            let n = exact("SELECT COUNT(*) FROM rm_droplets WHERE cluster_id = 'cl_1000003' AND status <> 'destroyed'").await;
            assert_eq!(by_cursor.len(), n);
        }
        for sort_by in ["created_at", "id"] {
            let filter = JobFilter {
                status: some("succeeded"),
                ..JobFilter::default()
            };
            let query = |page, cursor| {
                let p = PageRequest {
                    page,
                    page_size: 7,
                    sort_by,
                    descending,
                    cursor,
                };
                read.jobs_query(&filter, &p)
            };
            let by_cursor = walk(db, true, query, sort_by, descending).await;
            assert_eq!(by_cursor, walk(db, false, query, sort_by, descending).await);
            let mut unique = by_cursor.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), by_cursor.len(), "no duplicates");
            assert_eq!(
                by_cursor.len(),
                exact("SELECT COUNT(*) FROM rm_jobs WHERE status = 'succeeded'").await
            );
        }
    }
}
on_both_backends!(cursor_walks, super::cursor_walks_equal_page_walks);

async fn totals_are_bounded(backend: &Stores) {
    let db = &backend.db;
    fill(db, 600).await;
    let read = ReadModels::new(db.clone()).with_count_bound(100);
    // Without filters, or with one, the count is the one the projections keep: exact.
    let page = read
        .jobs(&JobFilter::default(), &request("created_at", true, None))
        .await
        .unwrap();
    assert_eq!((page.total, page.total_is_estimate), (Some(600), false));
    assert!(page.next_cursor.is_some());
    let running = JobFilter {
        status: some("running"),
        ..JobFilter::default()
    };
    let page = read
        .jobs(&running, &request("created_at", true, None))
        .await
        .unwrap();
    assert_eq!((page.total, page.total_is_estimate), (Some(120), false));
    // i % 7 = 3 and i % 5 = 2: i = 17, 52, … 577.
    let filter = JobFilter {
        cluster_id: some("cl_1000003"),
        status: some("running"),
        ..JobFilter::default()
    };
    // Two filters are counted over their rows, up to the bound, when the page is full.
    let small_bound = ReadModels::new(db.clone()).with_count_bound(10);
    let pages_of_5 = |page| PageRequest {
        page,
        page_size: 5,
        ..request("created_at", true, None)
    };
    let page = small_bound.jobs(&filter, &pages_of_5(1)).await.unwrap();
    assert!(page.total_is_estimate, "17 jobs are above a bound of 10");
    assert!(page.total.unwrap() >= 11, "{:?}", page.total);
    // The last page tells the total itself, exact whatever the bound: 15 rows before it
    // and its own 2; so does a first page that holds them all.
    let last = small_bound.jobs(&filter, &pages_of_5(4)).await.unwrap();
    assert_eq!(last.items.len(), 2);
    assert_eq!((last.total, last.total_is_estimate), (Some(17), false));
    let all = small_bound
        .jobs(&filter, &request("created_at", true, None))
        .await
        .unwrap();
    assert_eq!((all.total, all.total_is_estimate), (Some(17), false));
    let page = read
        .jobs(&filter, &request("created_at", true, None))
        .await
        .unwrap();
    assert_eq!((page.total, page.total_is_estimate), (Some(17), false));
    assert_eq!(page.next_cursor, None, "one page holds them all");
    // i % 97 = 42 and i % 4 <> 3: i = 42, 236, 333, 430.
    let of_droplet = JobFilter {
        droplet_id: some("dr_1000042"),
        ..JobFilter::default()
    };
    let page = read
        .jobs(&of_droplet, &request("created_at", true, None))
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (Some(4), 4));
    let exact = ReadModels::new(db.clone());
    let page = exact
        .jobs(&JobFilter::default(), &request("created_at", true, None))
        .await
        .unwrap();
    assert_eq!((page.total, page.total_is_estimate), (Some(600), false));
    // A cursor page neither counts nor knows its number.
    let cursor = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
    let next = exact
        .jobs(
            &JobFilter::default(),
            &request("created_at", true, Some(cursor)),
        )
        .await
        .unwrap();
    assert_eq!((next.total, next.page, next.items.len()), (None, None, 20));
    // A page past the end has no row to carry the count: it is counted on its own.
    let past = PageRequest {
        page: 31,
        ..request("created_at", true, None)
    };
    let empty = exact.jobs(&JobFilter::default(), &past).await.unwrap();
    assert!(empty.items.is_empty());
    assert_eq!((empty.total, empty.total_is_estimate), (Some(600), false));
    let none = exact
        .jobs(
            &JobFilter {
                status: some("no-such-status"),
                ..JobFilter::default()
            },
            &request("created_at", true, None),
        )
        .await
        .unwrap();
    assert_eq!((none.total, none.items.len()), (Some(0), 0));
}
on_both_backends!(totals, super::totals_are_bounded);

async fn search_finds_substrings(backend: &Stores) {
    let db = &backend.db;
    fill(db, 600).await;
    let read = ReadModels::new(db.clone());
    let names = |search: &str| {
        let filter = ClusterFilter {
            search: some(search),
            ..ClusterFilter::default()
        };
        let q = read.clusters_query(&filter, &request("name", false, None));
        async move {
            keys(db, &q)
                .await
                .into_iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        }
    };
    let count = |search: &str| {
        let filter = ClusterFilter {
            search: some(search),
            ..ClusterFilter::default()
        };
        let q = read.clusters_query(&filter, &request("name", false, None));
        async move {
            let mut count = sqlx::query_scalar::<_, i64>(q.count_sql.as_deref().unwrap());
            for arg in &q.args[..q.count_args] {
                count = count.bind(arg);
            }
            count.fetch_one(db.pool()).await.unwrap() as usize
        }
    };
    // Names are 'Web-<i % 97>_x%<i % 7>', deleted when i % 10 = 0.
    let live = |f: &dyn Fn(i64) -> bool| (1..=600).filter(|i| i % 10 != 0 && f(*i)).count();
    assert_eq!(count("web-96_").await, live(&|i| i % 97 == 96));
    assert_eq!(count("EB-96_X%").await, live(&|i| i % 97 == 96));
    assert_eq!(count("_x%3").await, live(&|i| i % 7 == 3));
    assert_eq!(count("x%%").await, 0);
    assert_eq!(
        count("-9_").await,
        live(&|i| i % 97 == 9),
        "_ is no wildcard"
    );
    // One or two characters match the start of the name.
    assert_eq!(count("W").await, live(&|_| true));
    assert_eq!(count("we").await, live(&|_| true));
    assert_eq!(count("eb").await, 0);
    assert_eq!(count("%").await, 0);
    // Renames are searched as they are now (SQLite: the triggers keep the FTS table up).
    sqlx::query("UPDATE rm_clusters SET name = 'Renamed-Zeta' WHERE id = 'cl_1000001'")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(names("med-ze").await, ["Renamed-Zeta"]);
    sqlx::query("DELETE FROM rm_clusters WHERE id = 'cl_1000001'")
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(count("med-ze").await, 0);
}
on_both_backends!(search, super::search_finds_substrings);

async fn live_tables_carry_the_declared_indexes(backend: &Stores) {
    let db = &backend.db;
    for table in [&CLUSTERS, &DROPLETS, &JOBS, &RATELIMIT_RULES] {
        let sql = if db.is_sqlite() {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1"
        } else {
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename = $1"
        };
        let names: Vec<String> = sqlx::query_scalar(sql)
            .bind(table.name)
            .fetch_all(db.pool())
            .await
            .unwrap();
        for index in table.indexes {
            let name = format!("{}_{}_idx", table.name, index.short);
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        if table.search.is_some() {
            let search = if db.is_sqlite() { "prefix" } else { "search" };
            let name = format!("{}_{search}_idx", table.name);
            assert!(names.contains(&name), "{name} in {names:?}");
        }
    }
}
on_both_backends!(live_indexes, super::live_tables_carry_the_declared_indexes);

/// The storage parameters of `table`'s live trigram index (PostgreSQL).
async fn search_index_options(db: &ReadDb, table: &str) -> String {
    sqlx::query_scalar(
        "SELECT COALESCE(array_to_string(c.reloptions, ','), '') FROM pg_class c \
         WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
    )
    .bind(format!("{table}_search_idx"))
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// PostgreSQL: a trigram index's pending list (read whole by every search) stays within
/// its limit under a stream of inserts, and an index made with another limit gets it at
/// start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pending_lists_stay_short() {
    use projections::read_models::search::PENDING_LIST_KB;
    let stores = <common::Fixture as test_support::Fixture>::open(Backend::Postgres).await;
    let db = &stores.db;
    let limited = format!("gin_pending_list_limit={PENDING_LIST_KB}");
    for table in ["rm_clusters", "rm_droplets"] {
        assert_eq!(search_index_options(db, table).await, limited, "{table}");
    }
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        .execute(db.pool())
        .await
        .unwrap();
    // 6,000 names' trigrams would fill about 150 pages of a 4 MB pending list.
    let cluster = serde_json::to_string(&Loaded::<Cluster>::default()).unwrap();
    sqlx::query(&format!(
        "INSERT INTO rm_clusters (id, name, region, status, deleted, created_at, state, \
         last_position) SELECT 'cl_' || i, 'sys-' || (i % 16) || '-' || i, 'nyc1', \
         'healthy', 0, '2026-01-01T00:00:00Z', '{cluster}', i \
         FROM generate_series(1, 6000) AS i"
    ))
    .execute(db.pool())
    .await
    .unwrap();
    let pending: i32 =
        sqlx::query_scalar("SELECT pending_pages FROM pgstatginindex('rm_clusters_search_idx')")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let most = (PENDING_LIST_KB / 8) as i32;
    assert!(pending <= most, "{pending} pending pages, at most {most}");
    // An index made as earlier versions did gets the limit when the server starts.
    for sql in [
        "DROP INDEX rm_clusters_search_idx",
        "CREATE INDEX rm_clusters_search_idx ON rm_clusters USING gin (lower(name) gin_trgm_ops)",
    ] {
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    }
    assert_eq!(search_index_options(db, "rm_clusters").await, "");
    db.migrate().await.unwrap();
    assert_eq!(search_index_options(db, "rm_clusters").await, limited);
}

/// PostgreSQL: names the live worker writes do not wait in a trigram index's pending list
/// until it fills (300 names take about 8 of its 128 pages): the runtime merges it
/// within a second or so of the write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_merges_what_its_worker_wrote() {
    use engine::commands::{CommandContext, CommandService, CreateCluster};
    let stores = <common::Fixture as test_support::Fixture>::open(Backend::Postgres).await;
    let db = &stores.db;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        .execute(db.pool())
        .await
        .unwrap();
    let running = stores.runtime().await;
    // Given 300 clusters created through the commands and projected
    let service = CommandService::new(std::sync::Arc::clone(&stores.store));
    let ctx = CommandContext::new("test");
    for n in 0..300 {
        let command = CreateCluster::parse(&format!("merge-{n}"), "nyc1", None).unwrap();
        service.execute(&ctx, &command).await.unwrap();
    }
    running.catch_up(&*stores.store).await;
    // Then the list is merged into the index, and the names are found
    test_support::eventually(
        std::time::Duration::from_secs(10),
        "the pending list merged",
        || async {
            let pending: i32 = sqlx::query_scalar(
                "SELECT pending_pages FROM pgstatginindex('rm_clusters_search_idx')",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            if pending == 0 {
                Ok(())
            } else {
                Err(format!("{pending} pending pages"))
            }
        },
    )
    .await;
    let found: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM rm_clusters WHERE lower(name) LIKE '%merge-29%'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(found, 11, "merge-29 and merge-290..299");
    running.stop().await;
}
