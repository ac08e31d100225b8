//! The metrics stores on both backends: batches and their rollups, window summaries,
//! series from samples and from rollups, the paged list, and retention.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use engine::domain::{ClusterId, DropletId};
use engine::metrics::{
    connect_metrics, MetricSample, MetricType, Retention, SampleFilter, SamplePageRequest,
    SampleStart, SampleStore, SeriesQuery,
};
use engine::store::EventStore;
use test_support::{Backend, ScratchDb};

/// A fresh database, migrated by the event store, with a metrics store on it.
pub struct Metrics {
    store: Arc<dyn SampleStore>,
    _events: Arc<dyn EventStore>,
    _db: ScratchDb,
}

impl test_support::Fixture for Metrics {
    type Arg<'a> = Arc<dyn SampleStore>;

    async fn open(backend: Backend) -> Self {
        let db = ScratchDb::new(backend).await;
        let events = engine::store::connect(db.url(), 4)
            .await
            .expect("open the store");
        events.migrate().await.expect("migrate");
        let store = connect_metrics(db.url(), 4)
            .await
            .expect("open the metrics store");
        Self {
            store,
            _events: events,
            _db: db,
        }
    }

    fn arg(&self) -> Arc<dyn SampleStore> {
        Arc::clone(&self.store)
    }
}

/// 2026-12-01 12:00:00 UTC plus `secs`.
fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap() + chrono::Duration::seconds(secs)
}

fn sample(
    cluster: &ClusterId,
    droplet: Option<&DropletId>,
    kind: MetricType,
    value: f64,
    secs: i64,
) -> MetricSample {
    MetricSample {
        cluster_id: cluster.clone(),
        droplet_id: droplet.cloned(),
        metric_type: kind,
        value,
        timestamp: at(secs),
    }
}

fn series(cluster: &ClusterId, step: u32, from: i64, to: i64) -> SeriesQuery {
    SeriesQuery {
        cluster_id: Some(cluster.clone()),
        droplet_id: None,
        metric_type: MetricType::Cpu,
        since: at(from),
        until: at(to),
        step_seconds: step,
    }
}

async fn summaries_cover_the_window_per_cluster_and_type(store: Arc<dyn SampleStore>) {
    let (a, b) = (ClusterId::new(), ClusterId::new());
    let d = DropletId::new();
    let batch = vec![
        sample(&a, Some(&d), MetricType::Cpu, 99.0, -600),
        sample(&a, Some(&d), MetricType::Cpu, 10.0, 0),
        sample(&a, None, MetricType::Cpu, 30.0, 5),
        sample(&a, Some(&d), MetricType::Cpu, 20.0, 10),
        sample(&a, Some(&d), MetricType::Memory, 50.0, 10),
        sample(&b, None, MetricType::Network, 400.0, 1),
    ];
    assert_eq!(store.insert(&batch).await.unwrap(), 6);
    let all = store.window_summaries(at(0), None).await.unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    let cpu = all
        .iter()
        .find(|s| s.cluster_id == a && s.metric_type == MetricType::Cpu)
        .unwrap();
    assert_eq!(
        (cpu.count, cpu.avg, cpu.min, cpu.max),
        (3, 20.0, 10.0, 30.0)
    );
    assert_eq!((cpu.last, cpu.first_at, cpu.last_at), (20.0, at(0), at(10)));
    let only_b = store.window_summaries(at(0), Some(&b)).await.unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(
        (only_b[0].metric_type, only_b[0].last),
        (MetricType::Network, 400.0)
    );
}
test_support::on_both_backends!(
    summaries,
    super::summaries_cover_the_window_per_cluster_and_type,
    fixture = crate::Metrics
);

async fn series_numbers_are_exact_from_samples_and_from_rollups(store: Arc<dyn SampleStore>) {
    let c = ClusterId::new();
    let (d1, d2) = (DropletId::new(), DropletId::new());
    // Minute 0: 10, 20 (d1) and 60 (d2); minute 1: 40; minute 2: nothing; minute 3: 5.
    store
        .insert(&[
            sample(&c, Some(&d1), MetricType::Cpu, 10.0, 0),
            sample(&c, Some(&d1), MetricType::Cpu, 20.0, 15),
            sample(&c, Some(&d2), MetricType::Cpu, 60.0, 59),
            sample(&c, Some(&d1), MetricType::Memory, 77.0, 30),
        ])
        .await
        .unwrap();
    // A second batch into rows the first created: the rollups add up.
    store
        .insert(&[
            sample(&c, Some(&d1), MetricType::Cpu, 40.0, 60),
            sample(&c, None, MetricType::Cpu, 5.0, 180),
        ])
        .await
        .unwrap();
    let raw = store.series(&series(&c, 30, 0, 240)).await.unwrap();
    let summary: Vec<_> = raw
        .iter()
        .map(|p| (p.t, p.count, p.avg, p.min, p.max))
        .collect();
    assert_eq!(
        summary,
        [
            (at(0), 2, 15.0, 10.0, 20.0),
            (at(30), 1, 60.0, 60.0, 60.0),
            (at(60), 1, 40.0, 40.0, 40.0),
            (at(180), 1, 5.0, 5.0, 5.0),
        ]
    );
    let by_minute = store.series(&series(&c, 60, 0, 240)).await.unwrap();
    let summary: Vec<_> = by_minute
        .iter()
        .map(|p| (p.t, p.count, p.avg, p.min, p.max))
        .collect();
    assert_eq!(
        summary,
        [
            (at(0), 3, 30.0, 10.0, 60.0),
            (at(60), 1, 40.0, 40.0, 40.0),
            (at(180), 1, 5.0, 5.0, 5.0),
        ]
    );
    let two_minutes = store.series(&series(&c, 120, 0, 240)).await.unwrap();
    assert_eq!(two_minutes[0].count, 4);
    assert_eq!(two_minutes[0].avg, 32.5);
    let one_droplet = SeriesQuery {
        droplet_id: Some(d2.clone()),
        ..series(&c, 60, 0, 240)
    };
    let points = store.series(&one_droplet).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!((points[0].count, points[0].max), (1, 60.0));

    // With every raw sample expired and the rollups kept, a step of a minute or more
    // still answers (it reads the rollups), a shorter one has nothing left.
    store.expire(at(100_000), at(-100_000), 100).await.unwrap();
    assert!(store
        .series(&series(&c, 30, 0, 240))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.series(&series(&c, 60, 0, 240)).await.unwrap(),
        by_minute
    );
}
test_support::on_both_backends!(
    series_numbers,
    super::series_numbers_are_exact_from_samples_and_from_rollups,
    fixture = crate::Metrics
);

fn first_page(size: u32) -> SamplePageRequest {
    SamplePageRequest {
        start: SampleStart::Page(1),
        page_size: size,
        count_bound: 1_000,
    }
}

async fn the_list_pages_newest_first_with_filters_and_cursors(store: Arc<dyn SampleStore>) {
    let (a, b) = (ClusterId::new(), ClusterId::new());
    let d = DropletId::new();
    let mut batch: Vec<MetricSample> = (0..7)
        .map(|i| sample(&a, Some(&d), MetricType::Cpu, f64::from(i), i64::from(i)))
        .collect();
    // Two samples with the same time: the row id breaks the tie.
    batch.push(sample(&a, None, MetricType::Disk, 70.0, 6));
    batch.push(sample(&b, None, MetricType::Cpu, 1.0, 3));
    store.insert(&batch).await.unwrap();

    let filter = SampleFilter {
        cluster_id: Some(a.to_string()),
        ..SampleFilter::default()
    };
    let page = store.list(&filter, &first_page(3)).await.unwrap();
    assert_eq!(
        (page.total, page.total_is_estimate, page.more),
        (Some(8), false, true)
    );
    let times: Vec<_> = page.items.iter().map(|s| s.sample.timestamp).collect();
    assert_eq!(times, [at(6), at(6), at(5)]);
    let mut seen: Vec<f64> = page.items.iter().map(|s| s.sample.value).collect();
    let mut last = page.items.last().cloned().unwrap();
    loop {
        let next = SamplePageRequest {
            start: SampleStart::After {
                ts: last.sample.timestamp.timestamp_micros(),
                id: last.id,
            },
            ..first_page(3)
        };
        let page = store.list(&filter, &next).await.unwrap();
        assert_eq!(page.total, None);
        seen.extend(page.items.iter().map(|s| s.sample.value));
        match (page.more, page.items.last()) {
            (true, Some(item)) => last = item.clone(),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    let second = store
        .list(
            &filter,
            &SamplePageRequest {
                start: SampleStart::Page(3),
                ..first_page(3)
            },
        )
        .await
        .unwrap();
    assert_eq!(second.items.len(), 2);
    assert!(!second.more);

    let narrow = SampleFilter {
        cluster_id: Some(a.to_string()),
        droplet_id: Some(d.to_string()),
        metric_type: Some(MetricType::Cpu),
        since: Some(at(2)),
        until: Some(at(5)),
    };
    let page = store.list(&narrow, &first_page(50)).await.unwrap();
    let values: Vec<f64> = page.items.iter().map(|s| s.sample.value).collect();
    assert_eq!(values, [4.0, 3.0, 2.0]);
    let bounded = SamplePageRequest {
        count_bound: 4,
        ..first_page(2)
    };
    let page = store
        .list(&SampleFilter::default(), &bounded)
        .await
        .unwrap();
    assert_eq!((page.total, page.total_is_estimate), (Some(4), true));
}
test_support::on_both_backends!(
    list,
    super::the_list_pages_newest_first_with_filters_and_cursors,
    fixture = crate::Metrics
);

async fn retention_expires_old_samples_and_older_rollups(store: Arc<dyn SampleStore>) {
    let c = ClusterId::new();
    let now = at(0);
    let hour = 3600;
    store
        .insert(&[
            sample(&c, None, MetricType::Cpu, 1.0, -25 * hour),
            sample(&c, None, MetricType::Cpu, 2.0, -23 * hour),
            sample(&c, None, MetricType::Cpu, 3.0, -31 * 24 * hour),
        ])
        .await
        .unwrap();
    let retention = Retention {
        batch: 1,
        ..Retention::default()
    };
    let done = retention.run_once(store.as_ref(), now).await.unwrap();
    assert_eq!((done.samples, done.rollups), (2, 1));
    let left = store
        .list(&SampleFilter::default(), &first_page(10))
        .await
        .unwrap();
    let values: Vec<f64> = left.items.iter().map(|s| s.sample.value).collect();
    assert_eq!(values, [2.0]);
    // The rollup of the sample 25 h old is kept (30 days), that of the 31-day one is not.
    let old = store
        .series(&series(&c, 3600, -40 * 24 * hour, 0))
        .await
        .unwrap();
    assert_eq!(old.iter().map(|p| p.count).sum::<u64>(), 2);
    let again = retention.run_once(store.as_ref(), now).await.unwrap();
    assert_eq!((again.samples, again.rollups), (0, 0));
    assert_eq!(retention.every, Duration::from_secs(300));
}
test_support::on_both_backends!(
    retention,
    super::retention_expires_old_samples_and_older_rollups,
    fixture = crate::Metrics
);
