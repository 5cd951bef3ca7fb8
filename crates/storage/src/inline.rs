//! SQLite's hot reads, run through the C library on the calling thread.
//!
//! sqlx gives every SQLite connection a worker thread: a query is a message to that
//! thread, its rows come back as messages, and the connection is pinged through the
//! same channel when it returns to the pool. The benchmark showed a third of the CPU in
//! the kernel switching between those threads, and removing one such query from a page
//! doubled the page rate. The reads that every page makes (who is asking, one product,
//! one page of products) read a handful of rows through an index: tens of microseconds,
//! less than rendering the page. They run here instead, on the caller's thread, without
//! a hand-off.
//!
//! Nothing here may wait: these connections have no busy timeout, so a read that would
//! wait for a lock (or fail in any way the database can make it fail) steps aside and
//! the same statement runs through sqlx, which waits off the reactor and reports errors
//! as usual. What costs more than a bounded number of rows (a deep page, a count) is not
//! offered to this path at all.

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use catalog_domain::Timestamp;
use catalog_domain::ports::RepoError;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Connection, OpenFlags, Row};
use sea_orm::{Statement, Value};

use crate::cells::Cells;
use crate::error::corrupt;

/// Idle connections kept. Reads here never await, so no more are ever busy at once than
/// threads run the store's futures (the runtime's workers).
const KEPT: usize = 8;

/// Statements kept prepared per connection: the hot reads and their page sizes.
const PREPARED: usize = 64;

#[derive(Debug)]
pub(crate) struct Inline {
    path: String,
    idle: Mutex<Vec<Pooled>>,
    served: AtomicU64,
    stepped_aside: AtomicU64,
}

/// How many reads the inline path served, and how many it handed to sqlx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InlineReads {
    pub served: u64,
    pub stepped_aside: u64,
}

/// Why a read leaves this path; the statement then runs through sqlx.
struct StepAside;

impl From<rusqlite::Error> for StepAside {
    fn from(e: rusqlite::Error) -> Self {
        // SQLite's messages name the failure ("database is locked"), never bound values.
        tracing::debug!(error = %e, "inline read stepped aside to sqlx");
        Self
    }
}

impl Inline {
    /// For a SQLite file URL as sqlx reads it (`sqlite://path?options`); `None` for an
    /// in-memory database (which another connection would not see) or a path written in
    /// a form this parser does not handle, which then keeps to sqlx alone.
    pub(crate) fn for_url(url: &str) -> Option<Self> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
        let in_memory =
            path.is_empty() || path == ":memory:" || options.split('&').any(|o| o == "mode=memory");
        if in_memory || path.contains('%') {
            return None;
        }
        Some(Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            served: AtomicU64::new(0),
            stepped_aside: AtomicU64::new(0),
        })
    }

    /// The database file's path.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn reads(&self) -> InlineReads {
        InlineReads {
            served: self.served.load(Ordering::Relaxed),
            stepped_aside: self.stepped_aside.load(Ordering::Relaxed),
        }
    }

    /// The statement's rows, each mapped by `map`; `None` when the read stepped aside.
    pub(crate) fn rows<T>(
        &self,
        statement: &Statement,
        map: &dyn Fn(&dyn Cells) -> Result<T, RepoError>,
    ) -> Option<Result<Vec<T>, RepoError>> {
        let outcome = self.connection().and_then(|mut pooled| {
            let outcome = run(&mut pooled, statement, map);
            self.put_back(pooled);
            outcome
        });
        match outcome {
            Ok(rows) => {
                self.served.fetch_add(1, Ordering::Relaxed);
                Some(rows)
            }
            Err(StepAside) => {
                self.stepped_aside.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    fn connection(&self) -> Result<Pooled, StepAside> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        if let Some(pooled) = idle {
            return Ok(pooled);
        }
        // Opened read-write (a read-only handle cannot always join a WAL database) but
        // refusing writes, and never waiting for a lock.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::ZERO)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(Pooled {
            conn,
            names: Vec::new(),
        })
    }

    fn put_back(&self, pooled: Pooled) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEPT
        {
            idle.push(pooled);
        }
    }
}

/// An idle connection, with the column names of the statements it has run.
#[derive(Debug)]
struct Pooled {
    conn: Connection,
    /// Each statement's SQL with its column names. Asking SQLite for them on every run
    /// (a call and a UTF-8 check per column, and a `String` each) cost a twentieth of
    /// a product page; a statement's names follow from its SQL, which is found here by
    /// its length first and then one comparison (no hashing of the whole text).
    names: Vec<(String, Vec<String>)>,
}

/// Where `sql`'s column names are in `known`, asking `prepared` for them the first time
/// (and again should the count not match, as after a change of schema under `*`).
fn names_of(
    known: &mut Vec<(String, Vec<String>)>,
    sql: &str,
    prepared: &rusqlite::Statement<'_>,
) -> usize {
    let asked = || -> Vec<String> {
        prepared
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    let found = known
        .iter_mut()
        .enumerate()
        .find(|(_, (text, _))| text.len() == sql.len() && text == sql);
    if let Some((at, (_, names))) = found {
        if names.len() != prepared.column_count() {
            *names = asked();
        }
        return at;
    }
    if known.len() >= PREPARED {
        known.clear();
    }
    known.push((sql.to_owned(), asked()));
    known.len() - 1
}

fn run<T>(
    pooled: &mut Pooled,
    statement: &Statement,
    map: &dyn Fn(&dyn Cells) -> Result<T, RepoError>,
) -> Result<Result<Vec<T>, RepoError>, StepAside> {
    let values = match &statement.values {
        Some(values) => values.0.iter().map(bind).collect::<Option<Vec<_>>>(),
        None => Some(Vec::new()),
    }
    .ok_or(StepAside)?;
    let mut prepared = pooled.conn.prepare_cached(&statement.sql)?;
    let mut rows = prepared.query(rusqlite::params_from_iter(values))?;
    let Some(first) = rows.next()? else {
        return Ok(Ok(Vec::new()));
    };
    // The names are looked up once per statement (SQLite's own look-up by name, for
    // every cell, was a tenth of a page's CPU), and only after the first step: a
    // statement prepared before a change of schema is prepared again by that step.
    let at = names_of(&mut pooled.names, &statement.sql, first.as_ref());
    let names = pooled
        .names
        .get(at)
        .map_or(&[][..], |(_, names)| names.as_slice());
    let mut out = Vec::new();
    let mut next = Some(first);
    while let Some(row) = next {
        let cells = RowCells {
            row,
            names,
            next: Cell::new(0),
        };
        match map(&cells) {
            Ok(value) => out.push(value),
            Err(e) => return Ok(Err(e)),
        }
        next = rows.next()?;
    }
    Ok(Ok(out))
}

/// A bound value as sqlx binds it for SQLite (timestamps as the RFC 3339 text sqlx
/// writes, so that comparisons with stored timestamps agree); `None` for a type the
/// hot reads do not bind.
fn bind(value: &Value) -> Option<Sql> {
    Some(match value {
        Value::Bool(v) => v.map_or(Sql::Null, |b| Sql::Integer(b.into())),
        Value::Int(v) => v.map_or(Sql::Null, |n| Sql::Integer(n.into())),
        Value::BigInt(v) => v.map_or(Sql::Null, Sql::Integer),
        Value::String(v) => v.as_ref().map_or(Sql::Null, |s| Sql::Text(s.to_string())),
        Value::ChronoDateTimeUtc(v) => v.as_ref().map_or(Sql::Null, |t| {
            Sql::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        _ => return None,
    })
}

struct RowCells<'a> {
    row: &'a Row<'a>,
    names: &'a [String],
    /// Where the next look-up starts: the mappers read columns in the order they are
    /// selected, so the search nearly always ends at its first comparison.
    next: Cell<usize>,
}

impl RowCells<'_> {
    fn get(&self, column: &str) -> Result<ValueRef<'_>, RepoError> {
        let start = self.next.get();
        let index = if self.names.get(start).is_some_and(|name| name == column) {
            start
        } else {
            self.names
                .iter()
                .position(|name| name == column)
                .ok_or_else(|| corrupt(column, "no such column"))?
        };
        self.next.set(index + 1);
        self.row.get_ref(index).map_err(|e| corrupt(column, e))
    }

    fn str(&self, column: &str) -> Result<Option<&str>, RepoError> {
        match self.get(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => std::str::from_utf8(bytes)
                .map(Some)
                .map_err(|e| corrupt(column, e)),
            _ => Err(corrupt(column, "not text")),
        }
    }
}

impl Cells for RowCells<'_> {
    fn int(&self, column: &str) -> Result<Option<i64>, RepoError> {
        match self.get(column)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            _ => Err(corrupt(column, "not an integer")),
        }
    }

    fn text(&self, column: &str) -> Result<Option<String>, RepoError> {
        Ok(self.str(column)?.map(str::to_owned))
    }

    fn flag(&self, column: &str) -> Result<Option<bool>, RepoError> {
        Ok(self.int(column)?.map(|n| n != 0))
    }

    fn time(&self, column: &str) -> Result<Option<Timestamp>, RepoError> {
        self.str(column)?
            .map(|text| parse_time(text).ok_or_else(|| corrupt(column, "not a timestamp")))
            .transpose()
    }
}

/// Reads a stored timestamp as sqlx does: RFC 3339 (what it writes), else one of the
/// forms SQLite's own date functions produce, taken as UTC.
fn parse_time(text: &str) -> Option<Timestamp> {
    if let Some(t) = parse_written(text) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    FORMATS.iter().find_map(|format| {
        DateTime::parse_from_str(text, format)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(text, format)
                    .ok()
                    .map(|t| t.and_utc())
            })
    })
}

/// The one form sqlx writes, `2026-12-01T21:55:01.123456+00:00` (0 to 9 digits of
/// fraction, `+00:00` or `Z`), read field by field: every row of a page carries two or
/// three timestamps, and chrono's general RFC 3339 parser cost more than the rest of the
/// row. `None` for anything else (including a leap second), which the general parsers
/// then read.
fn parse_written(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    let rest = bytes
        .strip_suffix(b"+00:00")
        .or_else(|| bytes.strip_suffix(b"Z"))?;
    let (head, fraction) = rest.split_at_checked(19)?;
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
    ] = <[u8; 19]>::try_from(head).ok()?
    else {
        return None;
    };
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let scale = 10u32.pow(9 - u32::try_from(digits.len()).ok()?);
            number(digits)? * scale
        }
        _ => return None,
    };
    let year = i32::try_from(number(&[y0, y1, y2, y3])?).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, number(&[mo0, mo1])?, number(&[d0, d1])?)?;
    let time = chrono::NaiveTime::from_hms_nano_opt(
        number(&[h0, h1])?,
        number(&[mi0, mi1])?,
        number(&[s0, s1])?,
        nanos,
    )?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests;
