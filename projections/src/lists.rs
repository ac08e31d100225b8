//! How a list query is built so that it costs the same at 1M rows as at 1k:
//!
//! - the page is read in index order and the read stops after `page_size + 1` rows: every
//!   filter combination and sort a list offers has an index (filter columns, the sort
//!   column, `id`), see [`crate::read_models::tables`]; the exception is a filter whose rows
//!   are few whatever the table's size (a droplet's jobs): its index finds them and the
//!   other filters are checked on them ([`Where::eq_checked`]);
//! - `?cursor=` goes on after the last row of the previous page with a keyset condition
//!   `(sort, id) > (last sort, last id)` (`<` descending), never `OFFSET`; `?page=` keeps
//!   working with `OFFSET`;
//! - `total` of a list without filters, or with one filter whose count the projections
//!   keep ([`Counted`]), is that count: exact, one primary-key read;
//! - any other `total` counts at most [`DEFAULT_COUNT_BOUND`] rows (`COUNT(*)` over a `LIMIT`ed
//!   subquery); above, it is an estimate (PostgreSQL: the planner's row estimate; SQLite: the
//!   bound plus one) flagged by `total_is_estimate`; a cursor page does not count; the
//!   count is a column of the page's own statement (run alone only when the page is empty),
//!   and an estimate is kept for [`ESTIMATE_TTL`] so a first page costs one statement;
//! - `?search=` uses the trigram indexes of [`crate::read_models::search`].

use serde::{Deserialize, Serialize};

/// How many rows `total` counts exactly; above, it is an estimate. Counting is the one
/// part of a first page whose cost grows with the rows that match, up to this bound: at
/// 10,000 it was most of the page's time, at 1,000 a fraction of a millisecond.
pub const DEFAULT_COUNT_BOUND: i64 = 1_000;

/// How long a planner estimate of a list's size is reused. The planner's statistics are
/// themselves only refreshed by `ANALYZE`, so a few seconds add no error worth the
/// `EXPLAIN` (planning the statement again) each first page would otherwise cost.
pub const ESTIMATE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// Planner estimates of list sizes, each reused for [`ESTIMATE_TTL`]; at most
/// [`Estimates::CAPACITY`] filter combinations are held (all are dropped when full).
#[derive(Debug, Default)]
pub struct Estimates {
    held: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, i64)>>,
}

impl Estimates {
    /// The most filter combinations held at once.
    pub const CAPACITY: usize = 512;

    /// The key of `from_where` with `args`.
    pub fn key(from_where: &str, args: &[String]) -> String {
        let mut key = from_where.to_owned();
        for arg in args {
            key.push('\u{0}');
            key.push_str(arg);
        }
        key
    }

    /// A fresh estimate for `key`.
    pub fn get(&self, key: &str) -> Option<i64> {
        let held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.get(key)
            .filter(|(at, _)| at.elapsed() < ESTIMATE_TTL)
            .map(|(_, rows)| *rows)
    }

    /// Holds `rows` for `key`.
    pub fn put(&self, key: String, rows: i64) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.len() >= Self::CAPACITY && !held.contains_key(&key) {
            held.clear();
        }
        held.insert(key, (std::time::Instant::now(), rows));
    }
}

/// Where a cursor page starts: the sort key and id of the last row of the page before,
/// and the order it was read in. Sent to clients as an opaque string ([`Cursor::encode`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort column.
    #[serde(rename = "s")]
    pub sort_by: String,
    /// Descending order.
    #[serde(rename = "d")]
    pub descending: bool,
    /// The last row's sort key.
    #[serde(rename = "k")]
    pub key: String,
    /// The last row's id.
    #[serde(rename = "i")]
    pub id: String,
}

impl Cursor {
    /// The opaque form: the hex digits of its JSON.
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let json = serde_json::to_vec(self)?;
        let mut hex = String::with_capacity(json.len() * 2);
        for b in json {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        Ok(hex)
    }

    /// Reads an [`encode`](Self::encode)d cursor; the error says what is wrong.
    pub fn decode(raw: &str) -> Result<Self, String> {
        let malformed = || "cursor is malformed; pass the next_cursor of a list answer".to_owned();
        if !raw.len().is_multiple_of(2) || raw.len() > 4096 {
            return Err(malformed());
        }
        let bytes = (0..raw.len())
            .step_by(2)
            .map(|i| {
                raw.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| malformed())
    }

    /// Whether the cursor was made for this order; the error says why not.
    pub fn check(&self, sort_by: &str, descending: bool) -> Result<(), String> {
        if self.sort_by != sort_by || self.descending != descending {
            let dir = |d: bool| if d { "desc" } else { "asc" };
            return Err(format!(
                "cursor was made for sort_by={} sort_dir={}, not sort_by={sort_by} sort_dir={}",
                self.sort_by,
                dir(self.descending),
                dir(descending)
            ));
        }
        Ok(())
    }
}

/// A list's statements, as the API runs them (tests `EXPLAIN` them).
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The page: the columns, then `sort_key`, `row_id` and (with a kept count) `counted`,
    /// the count of every row the filters match; `LIMIT page_size + 1`.
    pub sql: String,
    /// Its arguments (`$1`…), all text.
    pub args: Vec<String>,
    /// `FROM … WHERE …` of the filters, without the cursor: what is counted.
    pub from_where: String,
    /// The count (`None` on a cursor page): a kept count, riding along with the page as
    /// `counted`; else a bounded count, run only when the page does not tell the total
    /// itself (a page that is the last and not empty, or the first, does).
    pub count_sql: Option<String>,
    /// Rows before the page (`OFFSET`).
    pub offset: i64,
    /// The count's arguments: the first `count_args` of [`args`](Self::args).
    pub count_args: usize,
    /// The count is a kept one ([`Counted`]): exact at any size, never an estimate.
    pub exact: bool,
    /// Planned for each call with its arguments, never from a cached generic plan: a
    /// search, whose pattern decides between the search index and walking the sort's
    /// index (see `ReadModels::fetch_list`).
    pub planned_per_call: bool,
}

/// A list filter whose count the projections keep (see
/// [`crate::read_models::list_counts`]): `total` reads it instead of counting rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Counted {
    /// The counts table.
    pub table: &'static str,
    /// The filter's key in it.
    pub key: String,
}

/// What a list reads: a table under an alias, the columns of its rows, extra joins for
/// the page only, and the column searched.
pub(crate) struct ListSpec {
    pub table: &'static str,
    pub alias: &'static str,
    pub columns: &'static str,
    pub joins: &'static str,
    pub search: Option<&'static str>,
}

/// A WHERE clause with numbered placeholders and its text arguments, and the FTS5 table a
/// SQLite search reads first.
#[derive(Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    args: Vec<String>,
    fts: Option<String>,
    /// The rows come from a search index, not from the sort's: keep SQLite from walking
    /// the sort's index and checking every row instead (`ORDER BY +column`).
    searched_first: bool,
    /// A search clause is set: its index, not the sort's, finds the rows.
    searched: bool,
}

impl Where {
    /// `column = value` when a value is given.
    pub fn eq(&mut self, column: &str, value: &Option<String>) {
        if let Some(value) = value {
            let n = self.arg(value.clone());
            self.clauses.push(format!("{column} = ${n}"));
        }
    }

    /// `column = value` when a value is given, checked on the rows another filter's index
    /// finds: written `column || '' = value`, which no index of `column` serves, so neither
    /// planner combines a wide index range of `column` with that filter's few rows (and then
    /// sorts them) instead of reading those rows in order.
    pub fn eq_checked(&mut self, column: &str, value: &Option<String>) {
        if let Some(value) = value {
            let n = self.arg(value.clone());
            self.clauses.push(format!("{column} || '' = ${n}"));
        }
    }

    /// A literal clause (never input).
    pub fn raw(&mut self, clause: &str) {
        self.clauses.push(clause.to_owned());
    }

    fn arg(&mut self, value: String) -> usize {
        self.args.push(value);
        self.args.len()
    }

    /// `?search=`: a case-insensitive substring of `column` (`table` aliased `alias`); one
    /// or two characters match the start of it (a trigram index needs three).
    pub fn search(&mut self, spec: &ListSpec, sqlite: bool, value: &Option<String>) {
        let (Some(column), Some(value)) = (spec.search, value.as_ref().filter(|v| !v.is_empty()))
        else {
            return;
        };
        self.searched = true;
        let text = value.to_lowercase();
        let short = text.chars().count() < 3;
        let a = spec.alias;
        match (sqlite, short) {
            (false, _) => {
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                let pattern = if short {
                    format!("{escaped}%")
                } else {
                    format!("%{escaped}%")
                };
                let n = self.arg(pattern);
                self.clauses
                    .push(format!("lower({a}.{column}) LIKE ${n} ESCAPE '\\'"));
            }
            (true, false) => {
                let n = self.arg(format!("\"{}\"", text.replace('"', "\"\"")));
                self.clauses.push(format!("s.{column} MATCH ${n}"));
                self.fts = Some(format!("{}_search", spec.table));
            }
            (true, true) => {
                let from = self.arg(text.clone());
                let to = self.arg(successor(&text));
                self.clauses.push(format!(
                    "lower({a}.{column}) >= ${from} AND lower({a}.{column}) < ${to}"
                ));
                self.searched_first = true;
            }
        }
    }

    /// `FROM … WHERE …` over `spec`'s table (after the FTS5 table when searching on SQLite)
    /// and `joins`.
    fn sql_from(&self, spec: &ListSpec, joins: &str) -> String {
        let from = match &self.fts {
            Some(fts) => format!(
                "{fts} s CROSS JOIN {} {a} ON {a}.rowid = s.rowid",
                spec.table,
                a = spec.alias
            ),
            None => format!("{} {}", spec.table, spec.alias),
        };
        if self.clauses.is_empty() {
            format!("FROM {from}{joins}")
        } else {
            format!("FROM {from}{joins} WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The smallest text above every text starting with `prefix`: its last character moved up
/// by one (SQLite compares text byte by byte, which is code point order in UTF-8).
fn successor(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1)
            .or_else(|| char::from_u32(0xE000).filter(|_| u32::from(last) < 0xE000))
        {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    // Only U+10FFFF characters: nothing sorts above but longer runs of them.
    format!("{prefix}\u{10FFFF}")
}

/// Builds the statements of one list page.
///
/// With `counted`, the first page's `total` is the kept count of the filter (one
/// primary-key read); without, a count of the matching rows up to `count_bound`.
pub(crate) fn build(
    spec: &ListSpec,
    mut w: Where,
    p: &crate::PageRequest,
    count_bound: i64,
    counted: Option<Counted>,
) -> ListQuery {
    let a = spec.alias;
    let from_where = w.sql_from(spec, "");
    let (dir, cmp) = if p.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let sort = format!("{a}.{}", p.sort_by);
    let id = format!("{a}.id");
    let plus = if w.searched_first { "+" } else { "" };
    let order = if p.sort_by == "id" {
        format!("{plus}{id} {dir}")
    } else {
        format!("{plus}{sort} {dir}, {plus}{id} {dir}")
    };
    // Without a search, the count walks the sort's index upwards, whatever the page's
    // direction: an index-only scan whose cost is the bound, not the width of the rows.
    // Upwards, a creation order starts at the oldest rows, which a vacuum has marked
    // all-visible; the newest (where a descending page starts) are not yet, and each
    // would be fetched from the heap. A search's rows come from the search index, where
    // an order would mean sorting every match first.
    let count_order = match (w.searched, p.sort_by == "id") {
        (true, _) => String::new(),
        (false, true) => format!(" ORDER BY {id}"),
        (false, false) => format!(" ORDER BY {sort}, {id}"),
    };
    let exact = counted.is_some();
    let count_sql = p.cursor.is_none().then(|| match counted {
        Some(counted) => {
            let key = w.arg(counted.key);
            format!(
                "SELECT COALESCE((SELECT n FROM {} WHERE id = ${key}), 0) AS n",
                counted.table
            )
        }
        None => format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one {from_where}{count_order} LIMIT {}) t",
            count_bound + 1
        ),
    });
    let count_args = w.args.len();
    if let Some(cursor) = &p.cursor {
        let key = w.arg(cursor.key.clone());
        let last = w.arg(cursor.id.clone());
        w.raw(&if p.sort_by == "id" {
            format!("{id} {cmp} ${last}")
        } else {
            format!("({sort}, {id}) {cmp} (${key}, ${last})")
        });
    }
    let offset = match &p.cursor {
        Some(_) => 0,
        None => i64::from(p.page.saturating_sub(1)) * i64::from(p.page_size),
    };
    // A kept count rides along with the page's rows: one statement, one round trip. A
    // bounded count would walk the matches a second time (a search: the search index's
    // entries again), so it waits for the page: the last page tells the total itself.
    let counted = match (&count_sql, exact) {
        (Some(count), true) => format!(", ({count}) AS counted"),
        _ => String::new(),
    };
    let sql = format!(
        "SELECT {}, {sort} AS sort_key, {id} AS row_id{counted} {} ORDER BY {order} \
         LIMIT {} OFFSET {offset}",
        spec.columns,
        w.sql_from(spec, spec.joins),
        i64::from(p.page_size) + 1,
    );
    ListQuery {
        sql,
        args: w.args,
        from_where,
        count_sql,
        offset,
        count_args,
        exact,
        planned_per_call: w.searched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = Cursor {
            sort_by: "name".into(),
            descending: true,
            key: "wéb \"1\"".into(),
            id: "cl_1".into(),
        };
        assert_eq!(
            Cursor::decode(&cursor.encode().unwrap()),
            Ok(cursor.clone())
        );
        for bad in ["", "zz", "abc", "7b7d", &"0".repeat(5000)] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
        assert!(cursor.check("name", true).is_ok());
        assert!(cursor.check("name", false).is_err());
        assert!(cursor.check("created_at", true).is_err());
    }

    #[test]
    fn estimates_are_held_per_filter_and_bounded() {
        let estimates = Estimates::default();
        let a = Estimates::key("FROM t WHERE s = $1", &["up".into()]);
        let b = Estimates::key("FROM t WHERE s = $1", &["down".into()]);
        assert_ne!(a, b);
        assert_eq!(estimates.get(&a), None);
        estimates.put(a.clone(), 42);
        assert_eq!((estimates.get(&a), estimates.get(&b)), (Some(42), None));
        for n in 0..Estimates::CAPACITY {
            estimates.put(format!("k{n}"), 1);
        }
        let held = estimates.held.lock().unwrap().len();
        assert!(held <= Estimates::CAPACITY, "{held}");
    }

    #[test]
    fn successors_bound_prefixes() {
        assert_eq!(successor("ab"), "ac");
        assert_eq!(successor("a\u{10FFFF}"), "b");
        assert!(successor("w").as_str() > "wzzz");
    }
}
