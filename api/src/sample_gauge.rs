//! `clustergenie_cluster_metric_value{cluster_id,metric_type,unit}`: per cluster and type,
//! the average of the newest samples of the last batch that carried newer ones than the
//! gauge holds. Bounded: at most [`MAX_CLUSTERS`] clusters have series (adding one more
//! drops the cluster updated longest ago), and a cluster whose samples are rejected as
//! deleted or unknown loses its series at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use engine::metrics::{MetricSample, MetricType};
use prometheus::{GaugeVec, Opts, Registry};

/// The most clusters the gauge has series for (four types each).
pub const MAX_CLUSTERS: usize = 1000;

/// What the gauge holds for one cluster.
struct Held {
    touched: Instant,
    newest: HashMap<MetricType, DateTime<Utc>>,
}

/// The gauge and what it holds.
pub struct SampleGauge {
    gauge: GaugeVec,
    held: Mutex<HashMap<String, Held>>,
    max_clusters: usize,
}

impl SampleGauge {
    /// Registers the gauge on `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let gauge = GaugeVec::new(
            Opts::new(
                "clustergenie_cluster_metric_value",
                "Newest metric value per cluster and type (average of its newest samples)",
            ),
            &["cluster_id", "metric_type", "unit"],
        )?;
        registry.register(Box::new(gauge.clone()))?;
        Ok(Self {
            gauge,
            held: Mutex::default(),
            max_clusters: MAX_CLUSTERS,
        })
    }

    /// Takes in a stored batch.
    pub fn observe(&self, samples: &[MetricSample]) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((cluster, kind), (at, value)) in newest(samples) {
            if !held.contains_key(&cluster) && held.len() >= self.max_clusters {
                self.evict_oldest(&mut held);
            }
            let entry = held.entry(cluster.clone()).or_insert_with(|| Held {
                touched: Instant::now(),
                newest: HashMap::new(),
            });
            if entry.newest.get(&kind).is_some_and(|held_at| *held_at > at) {
                continue;
            }
            entry.touched = Instant::now();
            entry.newest.insert(kind, at);
            self.gauge
                .with_label_values(&[cluster.as_str(), kind.as_str(), kind.unit()])
                .set(value);
        }
    }

    /// Drops every series of `cluster`.
    pub fn forget(&self, cluster: &str) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(gone) = held.remove(cluster) {
            self.remove_series(cluster, &gone);
        }
    }

    /// How many clusters have series.
    pub fn clusters(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    fn evict_oldest(&self, held: &mut HashMap<String, Held>) {
        let oldest = held
            .iter()
            .min_by_key(|(_, h)| h.touched)
            .map(|(cluster, _)| cluster.clone());
        if let Some(cluster) = oldest {
            if let Some(gone) = held.remove(&cluster) {
                self.remove_series(&cluster, &gone);
            }
        }
    }

    fn remove_series(&self, cluster: &str, gone: &Held) {
        for kind in gone.newest.keys() {
            let _ = self
                .gauge
                .remove_label_values(&[cluster, kind.as_str(), kind.unit()]);
        }
    }
}

/// Per cluster and type: the newest time in `samples` and the average of the samples at it.
fn newest(samples: &[MetricSample]) -> HashMap<(String, MetricType), (DateTime<Utc>, f64)> {
    let mut acc: HashMap<(String, MetricType), (DateTime<Utc>, f64, u32)> = HashMap::new();
    for s in samples {
        let key = (s.cluster_id.to_string(), s.metric_type);
        let slot = acc.entry(key).or_insert((s.timestamp, 0.0, 0));
        if s.timestamp > slot.0 {
            *slot = (s.timestamp, 0.0, 0);
        }
        if s.timestamp == slot.0 {
            slot.1 += s.value;
            slot.2 += 1;
        }
    }
    acc.into_iter()
        .map(|(k, (at, sum, n))| (k, (at, sum / f64::from(n.max(1)))))
        .collect()
}

#[cfg(test)]
mod tests {
    use engine::domain::ClusterId;

    use super::*;

    fn sample(cluster: &ClusterId, secs: i64, value: f64) -> MetricSample {
        MetricSample {
            cluster_id: cluster.clone(),
            droplet_id: None,
            metric_type: MetricType::Cpu,
            value,
            timestamp: DateTime::from_timestamp(secs, 0).unwrap(),
        }
    }

    fn value(gauge: &SampleGauge, cluster: &ClusterId) -> f64 {
        gauge
            .gauge
            .with_label_values(&[cluster.as_str(), "cpu", "percent"])
            .get()
    }

    #[test]
    fn the_gauge_holds_the_average_of_the_newest_samples_and_never_goes_back() {
        let gauge = SampleGauge::register(&Registry::new()).unwrap();
        let c = ClusterId::new();
        gauge.observe(&[
            sample(&c, 10, 20.0),
            sample(&c, 10, 40.0),
            sample(&c, 5, 99.0),
        ]);
        assert_eq!(value(&gauge, &c), 30.0);
        gauge.observe(&[sample(&c, 7, 1.0)]);
        assert_eq!(value(&gauge, &c), 30.0);
        gauge.observe(&[sample(&c, 11, 2.0)]);
        assert_eq!(value(&gauge, &c), 2.0);
    }

    #[test]
    fn the_gauge_is_bounded_and_forgets_gone_clusters() {
        let registry = Registry::new();
        let mut gauge = SampleGauge::register(&registry).unwrap();
        gauge.max_clusters = 2;
        let clusters: Vec<ClusterId> = (0..3).map(|_| ClusterId::new()).collect();
        for c in &clusters {
            gauge.observe(&[sample(c, 1, 1.0)]);
        }
        assert_eq!(gauge.clusters(), 2);
        let series = |registry: &Registry| {
            let mut text = Vec::new();
            prometheus::Encoder::encode(
                &prometheus::TextEncoder::new(),
                &registry.gather(),
                &mut text,
            )
            .unwrap();
            String::from_utf8(text)
                .unwrap()
                .lines()
                .filter(|line| line.starts_with("clustergenie_cluster_metric_value{"))
                .count()
        };
        assert_eq!(series(&registry), 2);
        gauge.forget(clusters[2].as_str());
        assert_eq!((gauge.clusters(), series(&registry)), (1, 1));
    }
}
