//! Records belong to the generation they were written in: after a reset, or a flush that
//! left some keys behind, the new generation neither reads nor keeps them. (A runner
//! healing from the log would otherwise skip the events such a record reflects and leave
//! them out of the summaries it folds anew.)

use std::sync::Arc;

use projections::cache::{
    Checkpoint, Kind, MemoryCache, ReadCache, Record, RecordKey, RedisCache, Written,
};

use super::redis_cache;

fn record(position: i64, text: &str) -> Record {
    Record {
        position,
        view: format!("\"{text}\""),
        state: format!("\"{text}\""),
    }
}

/// Writes a record at position 10 in one generation, then moves the cache to a new
/// generation with `move_on`; the old record must read as absent and be overwritten by
/// the new generation's record at a lower position.
async fn old_records_are_absent<F, Fut>(cache: Arc<dyn ReadCache>, move_on: F)
where
    F: FnOnce(Arc<dyn ReadCache>) -> Fut,
    Fut: std::future::Future<Output = Checkpoint>,
{
    let key = RecordKey::new(Kind::Droplet, "dr_left_behind");
    let first = cache.begin(&Checkpoint::fresh("log")).await.expect("begin");
    let written = cache
        .write(&first.epoch, &[(key.clone(), record(10, "old"))], Some(10))
        .await
        .expect("write");
    assert_eq!(written, Written::Applied);
    // The positive control: the record reads back in its own generation.
    let states = cache
        .states(std::slice::from_ref(&key))
        .await
        .expect("states");
    assert_eq!(states[0].as_ref().map(|s| s.position), Some(10));

    let second = move_on(Arc::clone(&cache)).await;
    assert_ne!(second.epoch, first.epoch);
    let states = cache
        .states(std::slice::from_ref(&key))
        .await
        .expect("states");
    assert_eq!(
        states[0], None,
        "a record of the old generation was read as a fold"
    );
    let read = cache
        .views(std::slice::from_ref(&key))
        .await
        .expect("views");
    assert_eq!(
        read.views,
        vec![None],
        "a record of the old generation was answered"
    );
    assert_eq!(read.checkpoint.map(|c| c.epoch), Some(second.epoch.clone()));

    let written = cache
        .write(&second.epoch, &[(key.clone(), record(4, "new"))], Some(4))
        .await
        .expect("write");
    assert_eq!(written, Written::Applied);
    let states = cache
        .states(std::slice::from_ref(&key))
        .await
        .expect("states");
    let state = states[0].as_ref().expect("the new generation's record");
    assert_eq!((state.position, state.state.as_str()), (4, "\"new\""));
    // And the old generation can no longer write.
    let late = cache
        .write(&first.epoch, &[(key, record(11, "late"))], Some(11))
        .await
        .expect("write");
    assert_eq!(late, Written::Lost);
}

async fn reset(cache: Arc<dyn ReadCache>) -> Checkpoint {
    let fresh = Checkpoint::fresh("log");
    cache.reset(&fresh).await.expect("reset");
    fresh
}

#[tokio::test]
async fn a_reset_memory_cache_holds_nothing_of_the_old_generation() {
    old_records_are_absent(Arc::new(MemoryCache::new()), reset).await;
}

#[tokio::test]
async fn a_reset_redis_cache_reads_nothing_of_the_old_generation() {
    let cache = redis_cache();
    old_records_are_absent(cache.clone(), reset).await;
    cache.flush().await.expect("delete the test's keys");
}

/// A flush that deleted the checkpoint but not every record (keys deleted one by one
/// while a runner wrote): the next runner opens a generation that ignores the survivors.
#[tokio::test]
async fn records_that_outlive_a_partial_flush_are_not_read() {
    let cache = redis_cache();
    let checkpoint_only = |cache: &Arc<RedisCache>| {
        let cache = Arc::clone(cache);
        move |_: Arc<dyn ReadCache>| async move {
            delete_checkpoint(&cache).await;
            assert_eq!(cache.checkpoint().await.expect("checkpoint"), None);
            cache.begin(&Checkpoint::fresh("log")).await.expect("begin")
        }
    };
    old_records_are_absent(cache.clone(), checkpoint_only(&cache)).await;
    cache.flush().await.expect("delete the test's keys");
}

async fn delete_checkpoint(cache: &RedisCache) {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = redis::Client::open(url).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let deleted: i64 = redis::cmd("DEL")
        .arg(cache.checkpoint_key())
        .query_async(&mut connection)
        .await
        .expect("DEL");
    assert_eq!(deleted, 1);
}
