//! Per-minute rollups of a batch, grouped in memory before the batch is stored: one row
//! per cluster, droplet, type and minute, upserted once (count and sum added, min and max
//! widened), so a series at a step of a minute or more never reads the raw samples.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::model::{MetricSample, MetricType};

/// Microseconds in a minute.
pub const MINUTE_MICROS: i64 = 60_000_000;

/// A time as microseconds since the Unix epoch (the stored form of `ts` and `minute`).
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The time of `micros` microseconds since the Unix epoch.
pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The start of the bucket of `step` microseconds that holds `at` (buckets are aligned on
/// the epoch, as `date_bin` from 1970 would).
pub fn bucket_start(at: i64, step: i64) -> i64 {
    at - at.rem_euclid(step)
}

/// What identifies one rollup row. The droplet is `""` for cluster-wide samples.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RollupKey {
    pub cluster_id: String,
    pub metric_type: MetricType,
    pub minute: i64,
    pub droplet_id: String,
}

/// The samples of one key in a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollupCell {
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl RollupCell {
    fn of(value: f64) -> Self {
        Self {
            count: 1,
            sum: value,
            min: value,
            max: value,
        }
    }

    fn add(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }
}

/// The batch's rollup rows, in key order (the order rows are upserted in, so that two
/// batches touching the same rows lock them in the same order).
pub fn group(samples: &[MetricSample]) -> BTreeMap<RollupKey, RollupCell> {
    let mut rows: BTreeMap<RollupKey, RollupCell> = BTreeMap::new();
    for sample in samples {
        let key = RollupKey {
            cluster_id: sample.cluster_id.as_str().to_owned(),
            metric_type: sample.metric_type,
            minute: bucket_start(micros(sample.timestamp), MINUTE_MICROS),
            droplet_id: sample
                .droplet_id
                .as_ref()
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
        };
        rows.entry(key)
            .and_modify(|cell| cell.add(sample.value))
            .or_insert_with(|| RollupCell::of(sample.value));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ClusterId, DropletId};

    fn sample(
        cluster: &ClusterId,
        droplet: Option<&DropletId>,
        secs: i64,
        value: f64,
    ) -> MetricSample {
        MetricSample {
            cluster_id: cluster.clone(),
            droplet_id: droplet.cloned(),
            metric_type: MetricType::Cpu,
            value,
            timestamp: DateTime::from_timestamp(secs, 0).unwrap(),
        }
    }

    #[test]
    fn a_batch_becomes_one_row_per_cluster_droplet_type_and_minute() {
        let cluster = ClusterId::new();
        let droplet = DropletId::new();
        let batch = [
            sample(&cluster, Some(&droplet), 120, 10.0),
            sample(&cluster, Some(&droplet), 179, 30.0),
            sample(&cluster, Some(&droplet), 180, 50.0),
            sample(&cluster, None, 130, 70.0),
        ];
        let rows = group(&batch);
        assert_eq!(rows.len(), 3);
        let first = rows
            .iter()
            .find(|(k, _)| k.minute == 120_000_000 && !k.droplet_id.is_empty())
            .map(|(_, c)| *c)
            .unwrap();
        assert_eq!(
            first,
            RollupCell {
                count: 2,
                sum: 40.0,
                min: 10.0,
                max: 30.0
            }
        );
        assert!(rows
            .keys()
            .any(|k| k.droplet_id.is_empty() && k.minute == 120_000_000));
    }

    #[test]
    fn buckets_are_aligned_on_the_epoch_also_before_it() {
        assert_eq!(bucket_start(125, 60), 120);
        assert_eq!(bucket_start(-1, 60), -60);
        assert_eq!(
            from_micros(micros(DateTime::from_timestamp(7, 0).unwrap())).timestamp(),
            7
        );
    }
}
