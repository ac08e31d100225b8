//! The tables `bench system` prints: plain text, columns aligned, cells between `|` (so
//! they also read as Markdown).

use super::load::{Figures, Op};

/// How the raw insert at one client count was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// In turns with create cluster, beside the servers.
    InTurns,
    /// After the servers stopped: PostgreSQL had no room for its connections beside them.
    Alone,
}

/// The raw insert per client count.
pub type Raw = [(usize, Figures, Baseline)];

/// Everything measured at one size of the log on one backend.
pub struct Level {
    pub backend: &'static str,
    /// The `--events` asked for.
    pub events: i64,
    /// The log's head when the measurements started.
    pub head: i64,
    pub appended: i64,
    pub prefill_s: f64,
    pub catch_up_s: f64,
    pub rss_prefilled: Option<u64>,
    pub rss_loaded: Option<u64>,
    /// The server's own memory after the load (`RssAnon`: `rss_loaded` without mapped files).
    pub anon_loaded: Option<u64>,
    /// Bytes stored after prefill, per event in the log.
    pub bytes_per_event: Option<f64>,
    pub idle_commits_per_s: Option<f64>,
    /// Transactions per create-cluster command at the first client count.
    pub commits_per_command: Option<f64>,
    /// Per request kind and client count.
    pub http: Vec<(Op, usize, Figures)>,
}

impl Level {
    fn figures(&self, op: Op, clients: usize) -> Option<&Figures> {
        self.http
            .iter()
            .find(|(o, c, _)| *o == op && *c == clients)
            .map(|(_, _, f)| f)
    }
}

/// Prints every table for the levels measured on one backend, with the raw insert `raw`
/// (per client count) measured in turns with them.
pub fn print(levels: &[Level], raw: &Raw) {
    let Some(first) = levels.first() else {
        return;
    };
    println!("## {}", first.backend);
    println!();
    print_system(levels);
    print_requests(levels, raw);
    print_vs_raw(levels, raw);
    print_vs_empty(levels);
}

fn print_system(levels: &[Level]) {
    let mut rows = vec![row(&[
        "events",
        "log head",
        "prefill s",
        "appended",
        "catch-up s",
        "RSS prefilled MB",
        "RSS loaded MB",
        "own MB loaded",
        "bytes/event",
        "xact/command",
        "idle xact/s",
    ])];
    let mb = |b: Option<u64>| opt(b.map(|b| b as f64 / 1e6), 1);
    for l in levels {
        rows.push(vec![
            l.events.to_string(),
            l.head.to_string(),
            format!("{:.1}", l.prefill_s),
            l.appended.to_string(),
            format!("{:.1}", l.catch_up_s),
            mb(l.rss_prefilled),
            mb(l.rss_loaded),
            mb(l.anon_loaded),
            opt(l.bytes_per_event, 0),
            opt(l.commits_per_command, 2),
            opt(l.idle_commits_per_s, 1),
        ]);
    }
    table(&rows, 0);
}

fn print_requests(levels: &[Level], raw: &Raw) {
    let mut rows = vec![row(&[
        "events",
        "request",
        "clients",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "non-2xx",
    ])];
    let levels = levels.iter().flat_map(|l| {
        l.http
            .iter()
            .map(|(o, c, f)| (l.events.to_string(), o.name(), *c, f))
    });
    let raw = raw.iter().map(|(c, f, how)| {
        let name = match how {
            Baseline::InTurns => "raw insert",
            Baseline::Alone => "raw insert (alone)",
        };
        ("baseline".to_owned(), name, *c, f)
    });
    for (events, name, clients, f) in levels.chain(raw) {
        rows.push(vec![
            events,
            name.to_owned(),
            clients.to_string(),
            format!("{:.0}", f.per_second),
            format!("{:.2}", f.p50_ms),
            format!("{:.2}", f.p99_ms),
            f.refused.to_string(),
        ]);
    }
    table(&rows, 1);
}

fn print_vs_raw(levels: &[Level], raw: &Raw) {
    let mut rows = vec![row(&["events", "clients", "create cluster / raw insert"])];
    for l in levels {
        for (clients, raw, _) in raw {
            if let Some(http) = l.figures(Op::CreateCluster, *clients) {
                rows.push(vec![
                    l.events.to_string(),
                    clients.to_string(),
                    ratio(http.per_second, raw.per_second),
                ]);
            }
        }
    }
    table(&rows, 0);
}

/// Each figure at every size as a ratio of the same figure on the smallest log
/// (requests/s: higher is better; p99: the ratio of latencies, lower is better).
fn print_vs_empty(levels: &[Level]) {
    let Some((base, rest)) = levels.split_first() else {
        return;
    };
    if rest.is_empty() {
        return;
    }
    let mut rows = vec![row(&[
        "events",
        "request",
        "clients",
        "requests/s vs smallest",
        "p99 vs smallest",
    ])];
    for l in rest {
        let http = l
            .http
            .iter()
            .map(|(o, c, f)| (o.name(), *c, f, base.figures(*o, *c)));
        for (name, clients, f, b) in http {
            let Some(b) = b else { continue };
            rows.push(vec![
                format!("{} vs {}", l.events, base.events),
                name.to_owned(),
                clients.to_string(),
                ratio(f.per_second, b.per_second),
                ratio(f.p99_ms, b.p99_ms),
            ]);
        }
    }
    table(&rows, 1);
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or("n/a".to_owned(), |v| format!("{v:.decimals$}"))
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".to_owned()
    }
}

/// Prints `rows` (the first is the header) with aligned columns: column `text_column`
/// left-aligned, the others right-aligned.
fn table(rows: &[Vec<String>], text_column: usize) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    for (i, r) in rows.iter().enumerate() {
        let cells = r
            .iter()
            .enumerate()
            .map(|(c, s)| match c == text_column {
                true => format!("{s:<w$}", w = widths[c]),
                false => format!("{s:>w$}", w = widths[c]),
            })
            .collect();
        println!("{}", line(cells));
        if i == 0 {
            let rule = widths
                .iter()
                .enumerate()
                .map(|(c, w)| match c == text_column {
                    true => format!(":{}", "-".repeat(w.saturating_sub(1))),
                    false => format!("{}:", "-".repeat(w.saturating_sub(1))),
                })
                .collect();
            println!("{}", line(rule));
        }
    }
    println!();
}
