//! `rm_billing_totals`: how many droplets are billed as each provider, region and size
//! ([`BilledAs`]), kept by the droplets projection in the same transaction as its droplet
//! rows and checkpoint, so the fleet's bill never sums over droplets.
//!
//! Every droplet event is applied between two looks at what the droplet is billed as;
//! when that changes, one droplet moves from the old group to the new one, and both
//! groups' `last_position` becomes the event's. The live path adds a batch's moves to the
//! stored counts; a bulk fill keeps the counts whole in memory and writes them as they
//! are. Either way a group's row says the same: its count and the last event that moved a
//! droplet into or out of it. A group that empties keeps its row, at 0.

use std::collections::BTreeMap;

use engine::domain::Droplet;
use engine::fold::Loaded;
use engine::provider::BilledAs;
use sqlx::{AnyConnection, Row};

use super::rows::{insert_rows, Value};
use super::tables::BILLING_TOTALS;
use crate::{ProjectionError, Target};

/// Droplets per group and the last event that moved one (moves only, on the live path;
/// whole counts in a bulk fill).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    groups: BTreeMap<BilledAs, (i64, i64)>,
}

impl Totals {
    /// Applies event `position` to `droplet` through `apply`, counting the droplet's move
    /// between groups if it makes one.
    pub fn step(
        &mut self,
        droplet: &mut Loaded<Droplet>,
        position: i64,
        apply: impl FnOnce(&mut Loaded<Droplet>) -> Result<(), ProjectionError>,
    ) -> Result<(), ProjectionError> {
        let before = BilledAs::of(&droplet.state);
        apply(droplet)?;
        let after = BilledAs::of(&droplet.state);
        if before != after {
            for (group, by) in [(before, -1), (after, 1)] {
                if let Some(group) = group {
                    let entry = self.groups.entry(group).or_default();
                    *entry = (entry.0 + by, position);
                }
            }
        }
        Ok(())
    }

    /// Whether no droplet moved.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups and their counts.
    pub fn counts(&self) -> impl Iterator<Item = (&BilledAs, i64)> {
        self.groups
            .iter()
            .map(|(group, (count, _))| (group, *count))
    }

    /// Adds the moves to the counts stored in `target` (the live path).
    pub async fn add_to(
        &self,
        conn: &mut AnyConnection,
        target: &Target,
    ) -> Result<(), ProjectionError> {
        let on_conflict = "ON CONFLICT (id) DO UPDATE SET \
                           droplet_count = cur.droplet_count + excluded.droplet_count, \
                           last_position = excluded.last_position";
        let table = target.table(BILLING_TOTALS.name);
        let columns = BILLING_TOTALS.column_names();
        insert_rows(conn, &table, &columns, self.rows(), on_conflict).await
    }

    /// Every group as its row (in `rm_billing_totals`' column order).
    pub fn rows(&self) -> Vec<Vec<Value>> {
        self.groups
            .iter()
            .map(|(group, (count, position))| {
                vec![
                    Value::Text(key(group)),
                    Value::Text(group.provider.clone()),
                    Value::Text(group.region.clone()),
                    Value::Text(group.size.clone()),
                    Value::Int(*count),
                    Value::Int(*position),
                ]
            })
            .collect()
    }

    /// The counts stored in `target` (a bulk fill resuming over rows it wrote before).
    pub async fn load(conn: &mut AnyConnection, target: &Target) -> Result<Self, ProjectionError> {
        let (groups, _) = stored(conn, &target.table(BILLING_TOTALS.name)).await?;
        Ok(Self {
            groups: groups.into_iter().collect(),
        })
    }
}

/// A group's key: `provider/region/size`.
fn key(group: &BilledAs) -> String {
    format!("{}/{}/{}", group.provider, group.region, group.size)
}

/// Every row of `table`: each group with its count and last position, and the highest
/// last position (0 when there are none).
pub(crate) async fn stored(
    conn: &mut AnyConnection,
    table: &str,
) -> Result<(Vec<(BilledAs, (i64, i64))>, i64), ProjectionError> {
    let sql = format!(
        "SELECT provider, region, size, droplet_count, last_position FROM {table} ORDER BY id"
    );
    let mut groups = Vec::new();
    let mut position = 0;
    for row in sqlx::query(&sql).fetch_all(&mut *conn).await? {
        let group = BilledAs {
            provider: row.try_get("provider")?,
            region: row.try_get("region")?,
            size: row.try_get("size")?,
        };
        let last: i64 = row.try_get("last_position")?;
        position = position.max(last);
        groups.push((group, (row.try_get("droplet_count")?, last)));
    }
    Ok((groups, position))
}

#[cfg(test)]
mod tests {
    use engine::domain::values::{ProviderName, Region, Size};
    use engine::domain::DropletStatus;

    use super::*;

    fn requested(provider: Option<&str>) -> Loaded<Droplet> {
        Loaded {
            state: Droplet {
                region: Region::parse("fra1").ok(),
                size: Size::parse("s-1vcpu-1gb").ok(),
                provider: provider.map(|p| ProviderName::parse(p).expect("provider")),
                status: DropletStatus::Provisioning,
                ..Droplet::default()
            },
            ..Loaded::default()
        }
    }

    fn group(provider: &str, size: &str) -> BilledAs {
        BilledAs {
            provider: provider.into(),
            region: "fra1".into(),
            size: size.into(),
        }
    }

    fn counts(totals: &Totals) -> Vec<(String, i64)> {
        totals.counts().map(|(g, n)| (key(g), n)).collect()
    }

    #[test]
    fn a_droplet_moves_between_groups_as_it_changes() {
        let mut totals = Totals::default();
        let mut droplet = Loaded::<Droplet>::default();
        let created = requested(Some("nimbus")).state;
        totals
            .step(&mut droplet, 1, |d| {
                d.state = created;
                Ok(())
            })
            .unwrap();
        assert_eq!(counts(&totals), [("nimbus/fra1/s-1vcpu-1gb".into(), 1)]);
        totals
            .step(&mut droplet, 2, |d| {
                d.state.size = Size::parse("s-2vcpu-4gb").ok();
                Ok(())
            })
            .unwrap();
        totals
            .step(&mut droplet, 3, |d| {
                d.state.provider = ProviderName::parse("stratus").ok();
                Ok(())
            })
            .unwrap();
        assert_eq!(
            counts(&totals),
            [
                ("nimbus/fra1/s-1vcpu-1gb".into(), 0),
                ("nimbus/fra1/s-2vcpu-4gb".into(), 0),
                ("stratus/fra1/s-2vcpu-4gb".into(), 1),
            ]
        );
        totals
            .step(&mut droplet, 4, |d| {
                d.state.status = DropletStatus::Destroyed;
                Ok(())
            })
            .unwrap();
        assert!(totals.counts().all(|(_, n)| n == 0), "{totals:?}");
        let rows = totals.rows();
        let positions: Vec<&Value> = rows.iter().map(|r| &r[5]).collect();
        assert_eq!(
            positions,
            [&Value::Int(2), &Value::Int(3), &Value::Int(4)],
            "the last event that moved a droplet in or out"
        );
    }

    #[test]
    fn an_event_that_changes_nothing_billed_moves_nothing() {
        let mut totals = Totals::default();
        let mut droplet = requested(None);
        totals
            .step(&mut droplet, 7, |d| {
                d.state.status = DropletStatus::Active;
                d.state.provider = ProviderName::parse("simcloud").ok();
                Ok(())
            })
            .unwrap();
        assert!(
            totals.is_empty(),
            "the region's default is simcloud: {totals:?}"
        );
        let failed = totals.step(&mut droplet, 8, |_| {
            Err(ProjectionError::Invalid("does not fold".into()))
        });
        assert!(failed.is_err() && totals.is_empty());
        assert_eq!(
            group("simcloud", "s-1vcpu-1gb"),
            BilledAs::of(&droplet.state).unwrap()
        );
    }
}
