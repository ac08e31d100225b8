//! Query parameters: parsed once, read with typed getters that answer 400 on bad input.
//!
//! Lists page with `page`, `page_size`, `sort_by`, `sort_dir` and `cursor` ([`Params::page`])
//! and answer `{items, page, page_size, total, total_is_estimate, next_cursor}`
//! ([`projections::Page`]): `total` is exact up to 10,000 rows, an estimate above
//! (`total_is_estimate: true`); `next_cursor` (null after the last row) passed back as
//! `?cursor=` reads the next page in the same order without counting or skipping rows (its
//! `page` and `total` are null). `cursor` wins over `page`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use projections::{Cursor, PageRequest};

use crate::errors::ApiError;

/// The largest page a list answers.
pub const MAX_PAGE_SIZE: u32 = 500;

/// A parsed query string.
#[derive(Debug, Clone, Default)]
pub struct Params(HashMap<String, String>);

/// `?as_of=` names a log position or a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AsOf {
    Position(i64),
    Time(DateTime<Utc>),
}

impl Params {
    /// Parses a raw query string.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
            .map(|pairs| Self(pairs.into_iter().collect()))
            .map_err(|e| ApiError::bad_field("query", e.to_string()))
    }

    /// A non-empty text value.
    pub fn text(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// An integer in `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        let value: i64 = raw
            .parse()
            .map_err(|_| ApiError::bad_field(name, format!("{name} must be an integer")))?;
        if value < min || value > max {
            return Err(ApiError::bad_field(
                name,
                format!("{name} must be between {min} and {max}"),
            ));
        }
        Ok(Some(value))
    }

    /// One of `allowed`.
    pub fn one_of(
        &self,
        name: &str,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, ApiError> {
        let Some(raw) = self.text(name) else {
            return Ok(None);
        };
        allowed
            .iter()
            .find(|a| **a == raw)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_field(
                    name,
                    format!("{name} must be one of {}", allowed.join(", ")),
                )
            })
    }

    /// `page`, `page_size`, `sort_by` (from `sortable`, first is the default), `sort_dir`
    /// and `cursor` (a list answer's `next_cursor`, made for the same order).
    pub fn page(
        &self,
        sortable: &[&'static str],
        default_desc: bool,
    ) -> Result<PageRequest, ApiError> {
        let page = self.int("page", 1, 1_000_000)?.unwrap_or(1) as u32;
        let page_size = self
            .int("page_size", 1, i64::from(MAX_PAGE_SIZE))?
            .unwrap_or(20) as u32;
        let sort_by = self.one_of("sort_by", sortable)?.unwrap_or(sortable[0]);
        let descending = match self.one_of("sort_dir", &["asc", "desc"])? {
            Some(dir) => dir == "desc",
            None => default_desc,
        };
        let cursor = match self.0.get("cursor") {
            None => None,
            Some(raw) => {
                let cursor = Cursor::decode(raw).map_err(|e| ApiError::bad_field("cursor", e))?;
                cursor
                    .check(sort_by, descending)
                    .map_err(|e| ApiError::bad_field("cursor", e))?;
                Some(cursor)
            }
        };
        Ok(PageRequest {
            page,
            page_size,
            sort_by,
            descending,
            cursor,
        })
    }

    /// `?as_of=<position|RFC 3339 time>`.
    pub fn as_of(&self) -> Result<Option<AsOf>, ApiError> {
        let Some(raw) = self.text("as_of") else {
            return Ok(None);
        };
        if let Ok(position) = raw.parse::<i64>() {
            if position < 0 {
                return Err(ApiError::bad_field("as_of", "as_of position must be >= 0"));
            }
            return Ok(Some(AsOf::Position(position)));
        }
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| Some(AsOf::Time(t.with_timezone(&Utc))))
            .map_err(|_| {
                ApiError::bad_field("as_of", "as_of must be a log position or an RFC 3339 time")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_bounded() {
        let ok = Params::parse("page=2&page_size=500&sort_by=name&sort_dir=desc").unwrap();
        let page = ok.page(&["created_at", "name"], false).unwrap();
        assert_eq!(
            (page.page, page.page_size, page.sort_by, page.descending),
            (2, 500, "name", true)
        );
        for bad in [
            "page_size=0",
            "page_size=1000000",
            "page=0",
            "page=x",
            "sort_by=evil;drop",
            "sort_dir=up",
            "cursor=",
            "cursor=nothex",
            "cursor=7b7d",
        ] {
            let err = Params::parse(bad)
                .unwrap()
                .page(&["created_at"], false)
                .unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
        }
    }

    #[test]
    fn cursors_belong_to_their_order() {
        let cursor = Cursor {
            sort_by: "name".into(),
            descending: false,
            key: "web".into(),
            id: "cl_1".into(),
        }
        .encode()
        .unwrap();
        let page = Params::parse(&format!("sort_by=name&cursor={cursor}"))
            .unwrap()
            .page(&["created_at", "name"], false)
            .unwrap();
        assert_eq!(page.cursor.map(|c| c.id), Some("cl_1".to_owned()));
        for other in ["sort_by=created_at", "sort_by=name&sort_dir=desc"] {
            let err = Params::parse(&format!("{other}&cursor={cursor}"))
                .unwrap()
                .page(&["created_at", "name"], false)
                .unwrap_err();
            assert_eq!(err.status(), 400, "{other}");
        }
    }

    #[test]
    fn as_of_takes_positions_and_times() {
        assert_eq!(
            Params::parse("as_of=7").unwrap().as_of().unwrap(),
            Some(AsOf::Position(7))
        );
        assert!(matches!(
            Params::parse("as_of=2026-01-01T00:00:00Z")
                .unwrap()
                .as_of()
                .unwrap(),
            Some(AsOf::Time(_))
        ));
        assert!(Params::parse("as_of=yesterday").unwrap().as_of().is_err());
    }
}
