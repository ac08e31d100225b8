//! When a pooled PostgreSQL connection is checked before use
//! (`engine::store::side_pool::ping_when_idle`): only after sitting idle for
//! `PING_AFTER_IDLE`, so a connection the server dropped meanwhile is replaced, while
//! one that was in use a moment ago costs no round trip.

use std::time::Duration;

use engine::store::side_pool::{ping_when_idle, PING_AFTER_IDLE};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use test_support::ScratchDb;

async fn one_connection(db: &ScratchDb) -> PgPool {
    ping_when_idle(PgPoolOptions::new())
        .max_connections(1)
        .connect(db.url())
        .await
        .expect("connect to the scratch database")
}

/// A scratch database, a one-connection pool on it, and the server process behind that
/// connection, which the server has just ended (a connection used a moment ago).
async fn a_connection_just_ended() -> (ScratchDb, PgPool, i32) {
    let db = ScratchDb::postgres().await;
    let pool = one_connection(&db).await;
    let pid = backend_pid(&pool).await.expect("first query");
    terminate(&db, pid).await;
    (db, pool, pid)
}

async fn backend_pid(pool: &PgPool) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
}

/// Ends the server process behind `pid` and waits until it is gone.
async fn terminate(db: &ScratchDb, pid: i32) {
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(db.url())
        .await
        .expect("connect for the termination");
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(pid)
        .fetch_one(&admin)
        .await
        .expect("terminate the backend");
    assert!(ended, "backend {pid} did not end");
    admin.close().await;
}

#[tokio::test]
async fn a_connection_the_server_dropped_while_it_sat_idle_is_replaced_before_use() {
    // Given a pool whose one connection the server ends while it sits idle
    let (_db, pool, first) = a_connection_just_ended().await;

    // When it is asked for again after PING_AFTER_IDLE
    tokio::time::sleep(PING_AFTER_IDLE + Duration::from_millis(200)).await;
    let second = backend_pid(&pool).await;

    // Then the ping found it dead and the query ran on a new connection
    let second = second.expect("the pool should have replaced the dead connection");
    assert_ne!(second, first);
}

#[tokio::test]
async fn a_connection_in_use_a_moment_ago_is_handed_out_without_a_ping() {
    // Given a pool whose one connection was just used, then ended by the server
    let (_db, pool, first) = a_connection_just_ended().await;

    // When it is asked for again at once
    let unchecked = backend_pid(&pool).await;

    // Then it was handed out unchecked (the query fails on it, as a query in flight
    // during a server restart would), and the pool replaces it for the next one
    assert!(
        unchecked.is_err(),
        "a ping would have replaced it: {unchecked:?}"
    );
    let next = backend_pid(&pool)
        .await
        .expect("the broken connection should have been dropped");
    assert_ne!(next, first);
}
