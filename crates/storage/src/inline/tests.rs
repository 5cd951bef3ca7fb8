use super::*;

proptest::proptest! {
    /// What sqlx writes reads back as the instant written, at every precision.
    #[test]
    fn written_timestamps_read_back(seconds in 0i64..253_402_300_799, nanos in 0u32..1_000_000_000, precision in 0usize..4) {
        let at = DateTime::from_timestamp(seconds, nanos).ok_or(proptest::test_runner::TestCaseError::reject("out of range"))?;
        let format = [SecondsFormat::AutoSi, SecondsFormat::Secs, SecondsFormat::Millis, SecondsFormat::Nanos][precision];
        let text = at.to_rfc3339_opts(format, precision == 1);
        let expected = DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).ok();
        proptest::prop_assert!(expected.is_some());
        proptest::prop_assert_eq!(parse_written(&text), expected);
        proptest::prop_assert_eq!(parse_time(&text), expected);
    }

    /// Text of the written shape with any digits (days that do not exist, hour 24,
    /// leap seconds) is read exactly as chrono reads it, or left to chrono.
    #[test]
    fn the_fast_reading_never_disagrees_with_chrono(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?(\\+00:00|Z|\\+01:00|)") {
        let chrono = DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).ok();
        if let Some(fast) = parse_written(&text) {
            proptest::prop_assert_eq!(Some(fast), chrono);
        }
        if chrono.is_some() {
            proptest::prop_assert_eq!(parse_time(&text), chrono);
        }
    }
}

#[test]
fn only_sqlite_files_are_read_inline() {
    let file = Inline::for_url("sqlite:///tmp/a.db?mode=rwc").map(|i| i.path);
    assert_eq!(file.as_deref(), Some("/tmp/a.db"));
    let relative = Inline::for_url("sqlite://catalog.db").map(|i| i.path);
    assert_eq!(relative.as_deref(), Some("catalog.db"));
    assert!(Inline::for_url("sqlite::memory:").is_none());
    assert!(Inline::for_url("sqlite://x.db?mode=memory&cache=shared").is_none());
    assert!(Inline::for_url("sqlite:///tmp/a%20b.db").is_none());
    assert!(Inline::for_url("postgres://localhost/db").is_none());
}

#[test]
fn timestamps_read_as_sqlx_reads_them() {
    let written = "2026-12-01T21:55:01.123456+00:00";
    let t = parse_time(written).map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, false));
    assert_eq!(t.as_deref(), Some(written));
    let sqlite_native = parse_time("2026-12-01 21:55:01").map(|t| t.timestamp());
    assert_eq!(sqlite_native, Some(1_796_162_101));
    assert!(parse_time("yesterday").is_none());
}

/// A database file in a directory of its own (gone with the directory), set up by
/// `schema` through a writer connection, and the inline reader of it.
fn scratch(schema: &str) -> Result<(tempfile::TempDir, Connection, Inline), rusqlite::Error> {
    let dir = tempfile::tempdir().map_err(|_| rusqlite::Error::InvalidQuery)?;
    let path = dir.path().join("catalog.db");
    let writer = Connection::open(&path)?;
    writer.execute_batch(schema)?;
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let inline = Inline::for_url(&url).ok_or(rusqlite::Error::InvalidQuery)?;
    Ok((dir, writer, inline))
}

/// A database in rollback-journal mode, which (unlike WAL) makes readers wait while
/// a writer holds it: the read steps aside at once, and is inline again afterwards.
#[test]
fn a_read_that_would_wait_steps_aside_at_once() -> Result<(), rusqlite::Error> {
    let (_dir, writer, inline) = scratch(
        "PRAGMA journal_mode = DELETE; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7);",
    )?;
    let statement = Statement::from_string(sea_orm::DbBackend::Sqlite, "SELECT n FROM t");
    let read = |c: &dyn Cells| c.int("n");

    writer.execute_batch("BEGIN EXCLUSIVE; UPDATE t SET n = 8;")?;
    let started = std::time::Instant::now();
    assert!(inline.rows(&statement, &read).is_none());
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(
        inline.reads(),
        InlineReads {
            served: 0,
            stepped_aside: 1
        }
    );

    writer.execute_batch("COMMIT;")?;
    let rows = inline.rows(&statement, &read).map(Result::ok);
    assert_eq!(rows, Some(Some(vec![Some(8)])));
    assert_eq!(
        inline.reads(),
        InlineReads {
            served: 1,
            stepped_aside: 1
        }
    );
    drop(writer);
    Ok(())
}

/// Statements with different columns, run in turn on one connection, each read
/// their own names; a statement whose columns changed with the schema reads the new.
#[test]
fn each_statement_reads_its_own_column_names() -> Result<(), rusqlite::Error> {
    let (_dir, writer, inline) = scratch(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (a INTEGER, b INTEGER); \
         INSERT INTO t VALUES (1, 2);",
    )?;
    let sql = |text: &str| Statement::from_string(sea_orm::DbBackend::Sqlite, text);
    let (ab, ba, all) = (
        sql("SELECT a, b FROM t"),
        sql("SELECT b, a FROM t"),
        sql("SELECT * FROM t"),
    );
    let read = |c: &dyn Cells| Ok((c.int("a")?, c.int("b")?));
    for _ in 0..3 {
        for statement in [&ab, &ba, &all] {
            let rows = inline.rows(statement, &read).map(Result::ok);
            assert_eq!(
                rows,
                Some(Some(vec![(Some(1), Some(2))])),
                "{}",
                statement.sql
            );
        }
    }
    writer.execute_batch("ALTER TABLE t ADD COLUMN c INTEGER; UPDATE t SET c = 3;")?;
    let with_c = |c: &dyn Cells| Ok((c.int("a")?, c.int("c")?));
    let rows = inline.rows(&all, &with_c).map(Result::ok);
    assert_eq!(rows, Some(Some(vec![(Some(1), Some(3))])));
    drop(writer);
    Ok(())
}

#[test]
fn values_are_bound_as_sqlx_binds_them() {
    let at = parse_time("2026-12-01T21:55:01.5+00:00");
    assert_eq!(
        bind(&Value::ChronoDateTimeUtc(at)),
        Some(Sql::Text("2026-12-01T21:55:01.500+00:00".into()))
    );
    assert_eq!(bind(&Value::Bool(Some(true))), Some(Sql::Integer(1)));
    assert_eq!(bind(&Value::BigInt(None)), Some(Sql::Null));
    assert_eq!(bind(&Value::Double(Some(1.5))), None);
}
