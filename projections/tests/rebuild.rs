//! Rebuilds, replays and time travel agree with the incrementally built read models, on
//! SQLite and PostgreSQL:
//! - a rebuild from scratch after 100k events of mixed commands gives identical tables,
//!   row for row (`CG_REBUILD_EVENTS` overrides the count);
//! - a rebuild while commands keep flowing: readers never see a half-built model and,
//!   once the load stops, the models equal a fresh replay;
//! - an interrupted rebuild resumes from its shadow checkpoint;
//! - `as_of` folds equal a replay into a scratch schema at the same positions.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{generate, quiet, snapshot, Stores};
use engine::domain::{Cluster, Droplet, Job};
use engine::fold::{load, Loaded};
use engine::provider::BilledAs;
use engine::views::{ClusterView, DropletView, JobView};
use projections::read_models::list_counts;
use projections::read_models::tables::{CLUSTER_COUNTS, DROPLETS, DROPLET_COUNTS, JOB_COUNTS};
use projections::read_models::TableDef;
use projections::replay::{self, replay_into};
use projections::runtime::Applier;
use projections::RebuildState;
use projections::{
    rebuild, DropletFilter, PageRequest, ReadModels, RuntimeOptions, SchemaName, Target,
};
use serde_json::Value;
use sqlx::Row;
use test_support::on_both_backends;

fn events_wanted() -> i64 {
    std::env::var("CG_REBUILD_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

async fn rebuild_equals_incremental(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, events_wanted(), 16, 7).await;
    quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    let incremental = snapshot(&backend.db, &Target::Live).await;
    for table in ["rm_clusters", "rm_droplets", "rm_jobs", "rm_billing_totals"] {
        assert!(!incremental[table].is_empty(), "{table}: a real mix");
    }
    job_droplets_match_states(&backend.db).await;
    billing_totals_count_the_rows(&incremental);
    for name in running.runtime.names() {
        running.runtime.rebuild(name).await.unwrap();
        running.runtime.rebuild_finished(name).await;
        let status = rebuild::status(&backend.db, name).await.unwrap().unwrap();
        assert_eq!(status.status, RebuildState::Completed, "{name}: {status:?}");
    }
    let rebuilt = snapshot(&backend.db, &Target::Live).await;
    billing_totals_count_the_rows(&rebuilt);
    for (table, rows) in &incremental {
        assert_eq!(rows.len(), rebuilt[table].len(), "{table}: row count");
        assert!(
            rows == &rebuilt[table],
            "{table}: rows differ after the rebuild"
        );
    }
    list_counts_count_the_rows(&backend.db).await;
    cluster_rows_count_their_droplets(backend).await;
    running.stop().await;
}

/// A cluster row keeps how many live droplets the cluster has (its read form), not their
/// ids: the number its full fold from the log has.
async fn cluster_rows_count_their_droplets(backend: &Stores) {
    let rows = sqlx::query("SELECT id, state FROM rm_clusters ORDER BY id LIMIT 300")
        .fetch_all(backend.db.pool())
        .await
        .unwrap();
    let mut with_droplets = 0;
    for row in &rows {
        let id: String = row.try_get("id").unwrap();
        let state: Value =
            serde_json::from_str(&row.try_get::<String, _>("state").unwrap()).unwrap();
        let kept = state["state"]["droplets"].as_u64().unwrap_or_else(|| {
            panic!("{id}: droplets kept as a number: {state}");
        });
        let full = load::<Cluster>(&*backend.store, &id, None).await.unwrap();
        assert_eq!(kept, full.state.droplets.len() as u64, "{id}");
        with_droplets += usize::from(kept > 0);
    }
    assert!(
        with_droplets > 0,
        "some of {} clusters have droplets",
        rows.len()
    );
}

/// The list counts the projections kept are what counting the rows with the lists' own
/// filters gives.
async fn list_counts_count_the_rows(db: &projections::ReadDb) {
    let tables = [CLUSTER_COUNTS, DROPLET_COUNTS, JOB_COUNTS];
    let mut kept = Vec::new();
    for def in &tables {
        let counts = list_counts::stored(db, def).await.unwrap();
        assert!(counts.contains_key(""), "{}: {counts:?}", def.name);
        assert!(
            counts.len() >= 2,
            "{}: and per filter: {counts:?}",
            def.name
        );
        kept.push(counts);
    }
    list_counts::recount(db).await.unwrap();
    for (def, kept) in tables.iter().zip(kept) {
        let counted = list_counts::stored(db, def).await.unwrap();
        assert_eq!(kept, counted, "{}: kept and counted differ", def.name);
    }
}
on_both_backends!(rebuild_equality, super::rebuild_equals_incremental);

/// Every job row's `droplet_id` is its folded job's (empty for none), and some have one.
async fn job_droplets_match_states(db: &projections::ReadDb) {
    let rows = sqlx::query("SELECT id, droplet_id, state FROM rm_jobs")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let mut with_droplet = 0;
    for row in &rows {
        let column: String = row.try_get("droplet_id").unwrap();
        let state: String = row.try_get("state").unwrap();
        let loaded: Loaded<Job> = serde_json::from_str(&state).unwrap();
        let folded = loaded.state.droplet_id.map(|d| d.to_string());
        let id: String = row.try_get("id").unwrap();
        assert_eq!(column, folded.unwrap_or_default(), "{id}");
        with_droplet += usize::from(!column.is_empty());
    }
    assert!(
        with_droplet > 0,
        "some of {} jobs work on a droplet",
        rows.len()
    );
}

async fn droplet_ids_are_backfilled_once(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, 2_000, 4, 5).await;
    quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    running.stop().await;
    // As rows written before the column existed, with the migration's request.
    sqlx::query("UPDATE rm_jobs SET droplet_id = ''")
        .execute(backend.db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO rm_backfills (name) VALUES ('rm_jobs.droplet_id')")
        .execute(backend.db.pool())
        .await
        .unwrap();
    backend.db.migrate().await.unwrap();
    job_droplets_match_states(&backend.db).await;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rm_backfills")
        .fetch_one(backend.db.pool())
        .await
        .unwrap();
    assert_eq!(pending, 0, "done once");
    sqlx::query("UPDATE rm_jobs SET droplet_id = ''")
        .execute(backend.db.pool())
        .await
        .unwrap();
    assert_eq!(
        projections::read_models::jobs::backfill_droplet_ids(&backend.db)
            .await
            .unwrap(),
        0,
        "not asked again"
    );
}
on_both_backends!(droplet_backfill, super::droplet_ids_are_backfilled_once);

type Snapshot = BTreeMap<String, BTreeMap<String, Vec<Option<String>>>>;

/// `rm_billing_totals` holds what counting the billed droplet rows gives (a group emptied
/// stays, at 0).
fn billing_totals_count_the_rows(snapshot: &Snapshot) {
    let state = DROPLETS.column_names().iter().position(|c| *c == "state");
    let mut counted: BTreeMap<String, i64> = BTreeMap::new();
    for row in snapshot["rm_droplets"].values() {
        let state = row[state.unwrap()].as_deref().unwrap();
        let loaded: Loaded<Droplet> = serde_json::from_str(state).unwrap();
        if let Some(g) = BilledAs::of(&loaded.state) {
            *counted
                .entry(format!("{}/{}/{}", g.provider, g.region, g.size))
                .or_default() += 1;
        }
    }
    let stored: BTreeMap<String, i64> = snapshot["rm_billing_totals"]
        .iter()
        .map(|(id, row)| (id.clone(), row[4].as_deref().unwrap().parse().unwrap()))
        .filter(|(_, count)| *count != 0)
        .collect();
    assert!(!counted.is_empty(), "droplets are billed");
    assert_eq!(stored, counted, "the totals count the droplet rows");
}

async fn rebuild_under_load(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, 3_000, 8, 11).await;
    running.catch_up(&*backend.store).await;
    // Readers: clusters are never removed from rm_clusters (deletion is a flag), so the
    // count a reader sees must never go down, through every swap.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let db = backend.db.clone();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut last = 0i64;
            let mut reads = 0;
            while !stop.load(Ordering::SeqCst) {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rm_clusters")
                    .fetch_one(db.pool())
                    .await
                    .expect("readers keep being answered during a rebuild");
                assert!(n >= last, "a reader saw {n} clusters after {last}");
                last = n;
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };
    let load = {
        let store = Arc::clone(&backend.store);
        let head = store.head().await.unwrap();
        tokio::spawn(async move { generate(&store, head + 4_000, 8, 12).await })
    };
    for name in running.runtime.names() {
        running.runtime.rebuild(name).await.unwrap();
    }
    for name in running.runtime.names() {
        running.runtime.rebuild_finished(name).await;
    }
    load.await.unwrap();
    stop.store(true, Ordering::SeqCst);
    assert!(reader.await.unwrap() > 0);
    let head = quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    for name in running.runtime.names() {
        let status = rebuild::status(&backend.db, name).await.unwrap().unwrap();
        assert_eq!(status.status, RebuildState::Completed, "{name}: {status:?}");
    }
    // Nothing is missing: the live models equal a fresh replay of the whole log.
    let schema = SchemaName::parse("after_load").unwrap();
    let all = projections::all();
    replay_into(
        Arc::clone(&backend.store),
        &backend.db,
        &all,
        head,
        &schema,
        &|_| {},
    )
    .await
    .unwrap();
    let parked = running.runtime.dead_letters(None).await.unwrap();
    assert!(parked.is_empty(), "{parked:#?}");
    let diff = replay::diff(&backend.db, &all, &schema).await.unwrap();
    if !diff.is_identical() {
        explain(backend, &diff, &schema).await;
    }
    assert!(diff.is_identical(), "{diff:#?}");
    assert_eq!(diff.scratch_position, Some(head));
    assert_eq!(
        backend.store.head().await.unwrap(),
        head,
        "the log moved meanwhile"
    );
    running.stop().await;
}
on_both_backends!(rebuild_while_writing, super::rebuild_under_load);

async fn diff_reads_older_rows_as_this_version(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, 600, 4, 41).await;
    let head = quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    running.stop().await;
    let schema = SchemaName::parse("older_rows").unwrap();
    let all = projections::all();
    replay_into(
        Arc::clone(&backend.store),
        &backend.db,
        &all,
        head,
        &schema,
        &|_| {},
    )
    .await
    .unwrap();
    // Every live job row as an earlier version wrote it: unset fields as nulls, the first
    // time of every event type.
    let jobs = all
        .iter()
        .flat_map(|p| p.tables())
        .find(|t| t.name == "rm_jobs")
        .unwrap();
    let column = jobs
        .column_names()
        .iter()
        .position(|c| *c == "state")
        .unwrap();
    let rows = replay::rows(&backend.db, jobs, &Target::Live)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for (id, row) in &rows {
        let mut state: Value = serde_json::from_str(row[column].as_deref().unwrap()).unwrap();
        for field in [
            "worker",
            "error",
            "result",
            "progress_message",
            "cancel_reason",
        ] {
            if state["state"].get(field).is_none() {
                state["state"][field] = Value::Null;
            }
        }
        let created = state["created_at"].clone();
        let mut first_seen = state["first_seen"].as_object().cloned().unwrap_or_default();
        first_seen.insert("job.created".to_owned(), created);
        state["first_seen"] = Value::Object(first_seen);
        set_job_state(backend, id, &state).await;
    }
    set_clusters_full(backend).await;
    let diff = replay::diff(&backend.db, &all, &schema).await.unwrap();
    assert!(diff.is_identical(), "{diff:#?}");
    // A row that folds differently still differs.
    let (id, row) = rows.iter().next().unwrap();
    let mut state: Value = serde_json::from_str(row[column].as_deref().unwrap()).unwrap();
    state["state"]["attempts"] = Value::from(4);
    set_job_state(backend, id, &state).await;
    let diff = replay::diff(&backend.db, &all, &schema).await.unwrap();
    let found = diff.tables.iter().find(|t| t.table == "rm_jobs").unwrap();
    assert_eq!(found.changed, vec![(id.clone(), vec!["state".to_owned()])]);
}
on_both_backends!(
    diff_of_older_rows,
    super::diff_reads_older_rows_as_this_version
);

/// Every live cluster row as an earlier version wrote it: the ids of its droplets, not
/// their number (the full fold, from the log).
async fn set_clusters_full(backend: &Stores) {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM rm_clusters")
        .fetch_all(backend.db.pool())
        .await
        .unwrap();
    let mut listed = 0;
    for id in &ids {
        let full = load::<Cluster>(&*backend.store, id, None).await.unwrap();
        listed += usize::from(!full.state.droplets.is_empty());
        sqlx::query("UPDATE rm_clusters SET state = $1 WHERE id = $2")
            .bind(serde_json::to_string(&full).unwrap())
            .bind(id)
            .execute(backend.db.pool())
            .await
            .unwrap();
    }
    assert!(listed > 0, "some of {} clusters list droplets", ids.len());
}

/// Overwrites the live job row `id`'s `state`.
async fn set_job_state(backend: &Stores, id: &str, state: &Value) {
    sqlx::query("UPDATE rm_jobs SET state = $1 WHERE id = $2")
        .bind(state.to_string())
        .bind(id)
        .execute(backend.db.pool())
        .await
        .unwrap();
}

async fn interrupted_rebuild_resumes(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, 2_000, 4, 21).await;
    quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    let before = snapshot(&backend.db, &Target::Live).await;
    let projection = projections::all()
        .into_iter()
        .find(|p| p.name() == "droplets")
        .unwrap();
    let applier = Applier {
        db: backend.db.clone(),
        projection: Arc::clone(&projection),
        target: Target::Shadow,
        options: RuntimeOptions {
            rebuild_batch_size: 300,
            ..RuntimeOptions::default()
        },
    };
    assert!(!rebuild::begin(&backend.db, &*projection).await.unwrap());
    // The process "dies" after one batch of the shadow copy.
    let quiet = |_: String| {};
    let (_, partial) = applier.step(&*backend.store, 0, 300, &quiet).await.unwrap();
    assert!(partial > 0);
    let status = rebuild::status(&backend.db, "droplets")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (status.status, status.position),
        (RebuildState::Running, partial)
    );
    assert_eq!(
        snapshot(&backend.db, &Target::Live).await,
        before,
        "live untouched"
    );
    // A new process finds it running and resumes it from the shadow checkpoint.
    assert!(rebuild::running(&backend.db).await.unwrap() == ["droplets"]);
    assert!(rebuild::begin(&backend.db, &*projection).await.unwrap());
    let swapped = rebuild::run(Arc::clone(&backend.store), &applier, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(swapped, backend.store.head().await.unwrap());
    assert_eq!(snapshot(&backend.db, &Target::Live).await, before);
    let shadow = sqlx::query("SELECT COUNT(*) FROM rm_droplets__shadow")
        .fetch_one(backend.db.pool())
        .await;
    assert!(shadow.is_err(), "the shadow table is gone after the swap");
    // The fill left the secondary indexes out while loading; the swapped-in table has them.
    let indexes = index_definitions(backend, "rm_droplets").await;
    for columns in ["cluster_id, status, created_at, id", "created_at, id"] {
        assert!(
            indexes.iter().any(|i| i.contains(&format!("({columns})"))),
            "an index on {columns}: {indexes:?}"
        );
    }
    // So did the search index: a search reads the swapped-in rows, and the next ones.
    let read = ReadModels::new(backend.db.clone());
    let web = |search: &str| DropletFilter {
        status: Some("active".into()),
        search: Some(search.into()),
        ..DropletFilter::default()
    };
    let active: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rm_droplets WHERE status = 'active' AND name LIKE '%web%'",
    )
    .fetch_one(backend.db.pool())
    .await
    .unwrap();
    let page = PageRequest {
        page: 1,
        page_size: 500,
        sort_by: "name",
        descending: false,
        cursor: None,
    };
    let found = read.droplets(&web("WEB"), &page).await.unwrap();
    assert!(active > 0);
    assert_eq!(found.total, Some(active), "the droplets named web");
    assert_eq!(
        read.droplets(&web("weba"), &page).await.unwrap().total,
        Some(0)
    );
    let state = serde_json::to_string(&engine::fold::Loaded::<Droplet>::default()).unwrap();
    sqlx::query(
        "INSERT INTO rm_droplets (id, cluster_id, name, status, created_at, state, last_position) \
         VALUES ('dr_new', 'cl_new', 'zebra-web', 'active', '2030-01-01', $1, 0)",
    )
    .bind(&state)
    .execute(backend.db.pool())
    .await
    .unwrap();
    let found = read.droplets(&web("ebra"), &page).await.unwrap();
    assert_eq!(
        found.total,
        Some(1),
        "a row written after the swap is searchable"
    );
    running.stop().await;
}

/// The definitions of the live `table`'s secondary indexes.
async fn index_definitions(backend: &Stores, table: &str) -> Vec<String> {
    let sql = if backend.db.is_sqlite() {
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL"
    } else {
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1"
    };
    sqlx::query_scalar(sql)
        .bind(table)
        .fetch_all(backend.db.pool())
        .await
        .unwrap()
}
on_both_backends!(interrupted_rebuild, super::interrupted_rebuild_resumes);

async fn as_of_equals_replay(backend: &Stores) {
    generate(&backend.store, 2_000, 4, 31).await;
    let head = quiet(&*backend.store).await;
    let all = projections::all();
    for (i, position) in [head / 4, head / 2, 3 * head / 4, head]
        .into_iter()
        .enumerate()
    {
        let schema = SchemaName::parse(&format!("at_{i}")).unwrap();
        replay_into(
            Arc::clone(&backend.store),
            &backend.db,
            &all,
            position,
            &schema,
            &|_| {},
        )
        .await
        .unwrap();
        let scratch = backend.db.existing_schema(&schema).await.unwrap();
        let target = Target::Schema(schema.clone());
        let tables = all
            .iter()
            .flat_map(|p| p.tables())
            .collect::<Vec<&TableDef>>();
        let mut compared = 0;
        for table in tables
            .iter()
            .filter(|t| ["rm_clusters", "rm_droplets", "rm_jobs"].contains(&t.name))
        {
            let state_column = table
                .column_names()
                .iter()
                .position(|c| *c == "state")
                .unwrap();
            for (id, row) in replay::rows(&scratch, table, &target).await.unwrap() {
                let stored = stored_view(table.name, row[state_column].as_deref().unwrap());
                let folded = folded_view(backend, table.name, &id, position).await;
                assert_eq!(stored, folded, "{} {id} at {position}", table.name);
                compared += 1;
            }
        }
        assert!(compared > 0);
    }
}
on_both_backends!(as_of_matches_replay, super::as_of_equals_replay);

/// The view a row's stored state renders (what the API answers from the row).
fn stored_view(table: &str, state: &str) -> Value {
    let view = match table {
        "rm_clusters" => serde_json::to_value(ClusterView::from_loaded(
            &serde_json::from_str(state).unwrap(),
        )),
        "rm_droplets" => serde_json::to_value(DropletView::from_loaded(
            &serde_json::from_str(state).unwrap(),
            None,
        )),
        "rm_jobs" => {
            serde_json::to_value(JobView::from_loaded(&serde_json::from_str(state).unwrap()))
        }
        other => panic!("no view in {other}"),
    };
    view.unwrap()
}

/// The view `as_of = position` folds from the log.
async fn folded_view(backend: &Stores, table: &str, id: &str, position: i64) -> Value {
    let store = &*backend.store;
    let view = match table {
        "rm_clusters" => {
            let loaded = load::<Cluster>(store, id, Some(position)).await.unwrap();
            serde_json::to_value(ClusterView::from_loaded(&loaded))
        }
        "rm_droplets" => {
            let loaded = load::<Droplet>(store, id, Some(position)).await.unwrap();
            serde_json::to_value(DropletView::from_loaded(&loaded, None))
        }
        "rm_jobs" => {
            let loaded = load::<Job>(store, id, Some(position)).await.unwrap();
            serde_json::to_value(JobView::from_loaded(&loaded))
        }
        other => panic!("no view in {other}"),
    };
    view.unwrap()
}

/// Prints, for every row a diff found changed, both versions and the aggregate's events
/// (what a failure report needs to tell a stale row from a wrong one).
async fn explain(backend: &Stores, diff: &replay::DiffReport, schema: &SchemaName) {
    let scratch = backend.db.existing_schema(schema).await.unwrap();
    for table in projections::all().iter().flat_map(|p| p.tables()) {
        let Some(found) = diff.tables.iter().find(|t| t.table == table.name) else {
            continue;
        };
        let live = replay::rows(&backend.db, table, &Target::Live)
            .await
            .unwrap();
        let copy = replay::rows(&scratch, table, &Target::Schema(schema.clone()))
            .await
            .unwrap();
        for (key, _) in &found.changed {
            eprintln!(
                "{} {key}\n  live:    {:?}\n  scratch: {:?}",
                table.name, live[key], copy[key]
            );
            let kind = table.name.trim_start_matches("rm_").trim_end_matches('s');
            let events = backend.store.read_stream(kind, key, None).await.unwrap();
            for e in events {
                eprintln!("  event {} seq {} {}", e.position, e.sequence, e.event_type);
            }
        }
    }
}
