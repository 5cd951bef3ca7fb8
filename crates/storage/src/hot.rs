//! Hot reads as values. A [`HotRead`] is everything one read is: its statement (SQL
//! with the values bound where they are written) and the mapper of its rows. The same
//! value runs on SQLite's inline path ([`crate::inline`]) and through sqlx
//! ([`crate::Store::hot_rows`]), so the two cannot drift apart.
//!
//! Three rules keep a hot read from going wrong quietly:
//! - a column a mapper reads is named by a constant of the [`select_list!`] that
//!   selects it, so a misspelt name does not compile, and the test
//!   `hot_reads_read_exactly_what_they_select` runs every hot read on both databases;
//! - SQL written by hand (where the builder cannot say what the plan needs) goes
//!   through [`SqlText`], which writes a placeholder and binds its value in one call;
//! - a statement built by sea-query once and reused ([`Template`]) names its
//!   parameters; their order comes from the built statement, not from the caller.

use std::sync::OnceLock;

use catalog_domain::ports::RepoError;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{DbBackend, Statement, StatementBuilder, Value};

use crate::cells::Cells;
use crate::error::corrupt;

/// Maps one row of a hot read.
pub(crate) type Mapper<T> = fn(&dyn Cells) -> Result<T, RepoError>;

/// One hot read: its statement and the mapper of its rows.
pub(crate) struct HotRead<T> {
    pub(crate) statement: Statement,
    pub(crate) map: Mapper<T>,
    /// Whether the read visits no more than a page's worth of rows; only such a read
    /// may take SQLite's inline path.
    pub(crate) bounded: bool,
}

impl<T> HotRead<T> {
    /// A read through unique keys or an index range of a page's length.
    pub(crate) fn new(statement: Statement, map: Mapper<T>) -> Self {
        Self {
            statement,
            map,
            bounded: true,
        }
    }

    #[must_use]
    pub(crate) fn bounded(self, bounded: bool) -> Self {
        Self { bounded, ..self }
    }
}

/// Declares a SELECT list and the names of its columns from one table of
/// `NAME = "expression" AS "alias"`. Mappers read a column by its constant: a misspelt
/// constant does not compile, and a misspelt expression fails every test that reads.
macro_rules! select_list {
    (
        $(#[$doc:meta])*
        $vis:vis mod $module:ident {
            $first:ident = $first_expr:literal as $first_alias:literal
            $(, $name:ident = $expr:literal as $alias:literal)* $(,)?
        }
    ) => {
        $(#[$doc])*
        $vis mod $module {
            pub(crate) const $first: &str = $first_alias;
            $(pub(crate) const $name: &str = $alias;)*
            /// Every column, as the list of a SELECT.
            pub(crate) const LIST: &str =
                concat!($first_expr, " AS ", $first_alias $(, ", ", $expr, " AS ", $alias)*);
        }
    };
}
pub(crate) use select_list;

/// SQL written by hand, each value bound where its placeholder is written: no separate
/// list of values whose order must follow the text.
#[derive(Debug)]
pub(crate) struct SqlText {
    backend: DbBackend,
    sql: String,
    values: Vec<Value>,
}

impl SqlText {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            sql: String::with_capacity(512),
            values: Vec::new(),
        }
    }

    pub(crate) fn backend(&self) -> DbBackend {
        self.backend
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    /// Writes the next placeholder and binds `value` to it.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                self.sql.push('$');
                self.sql.push_str(&self.values.len().to_string());
            }
            _ => self.sql.push('?'),
        }
        self
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.sql, self.values)
    }
}

/// A statement sea-query builds once per backend (building it on every request cost
/// 3 % of a page), with named parameters: the builder writes [`param`]`("name")` where
/// a value goes, and [`Template::statement`] binds the values given by name in the
/// order the built SQL uses them.
pub(crate) struct Template {
    build: fn() -> SelectStatement,
    built: [OnceLock<Built>; 2],
}

struct Built {
    sql: String,
    /// The parameters' names, in the order of their placeholders.
    order: Vec<String>,
}

const PARAM: char = '\u{1}';

/// Where the value named `name` goes in a [`Template`]'s statement.
pub(crate) fn param(name: &str) -> Value {
    Value::from(format!("{PARAM}{name}"))
}

impl Template {
    pub(crate) const fn new(build: fn() -> SelectStatement) -> Self {
        Self {
            build,
            built: [OnceLock::new(), OnceLock::new()],
        }
    }

    fn built(&self, backend: DbBackend) -> &Built {
        self.built[usize::from(backend == DbBackend::Postgres)].get_or_init(|| {
            let built = StatementBuilder::build(&(self.build)(), &backend);
            let order = built
                .values
                .map(|values| {
                    values
                        .0
                        .iter()
                        .map(|value| match value {
                            Value::String(Some(text)) => text
                                .strip_prefix(PARAM)
                                .map_or_else(String::new, str::to_owned),
                            _ => String::new(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Built {
                sql: built.sql,
                order,
            }
        })
    }

    /// The statement with `args` bound by name.
    ///
    /// # Errors
    /// [`RepoError::Corrupt`] when the built statement binds a value that is not a
    /// parameter, or names one `args` does not give, or `args` gives one it does not use:
    /// mistakes in this crate, which every test of the read finds.
    pub(crate) fn statement(
        &self,
        backend: DbBackend,
        args: &[(&str, Value)],
    ) -> Result<Statement, RepoError> {
        let built = self.built(backend);
        let values = built
            .order
            .iter()
            .map(|name| {
                args.iter()
                    .find(|(given, _)| given == name)
                    .map(|(_, value)| value.clone())
                    .ok_or_else(|| corrupt("hot read", format!("no value for parameter {name:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some((unused, _)) = args
            .iter()
            .find(|(name, _)| !built.order.iter().any(|n| n == name))
        {
            return Err(corrupt(
                "hot read",
                format!("parameter {unused:?} is not used"),
            ));
        }
        Ok(Statement::from_sql_and_values(
            backend,
            built.sql.clone(),
            values,
        ))
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    use super::*;

    fn two_conditions() -> SelectStatement {
        let mut query = Query::select();
        query
            .column(Alias::new("a"))
            .from(Alias::new("t"))
            .and_where(Expr::col(Alias::new("b")).eq(param("second")))
            .and_where(Expr::col(Alias::new("a")).eq(param("first")));
        query
    }

    static TWO: Template = Template::new(two_conditions);

    /// The caller names the values; the built SQL decides their order. Written in
    /// either order, each value lands on its own column.
    #[test]
    fn a_template_binds_by_name_in_the_order_of_its_sql() -> Result<(), RepoError> {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let args = [("first", Value::from(1i64)), ("second", Value::from(2i64))];
            let statement = TWO.statement(backend, &args)?;
            let values = statement.values.map(|v| v.0).unwrap_or_default();
            assert_eq!(values, vec![Value::from(2i64), Value::from(1i64)]);
            assert!(statement.sql.contains("\"b\" = "), "{}", statement.sql);
        }
        Ok(())
    }

    #[test]
    fn a_missing_or_unused_parameter_is_an_error_not_a_swapped_bind() {
        let missing = TWO.statement(DbBackend::Sqlite, &[("first", Value::from(1i64))]);
        assert!(matches!(missing, Err(RepoError::Corrupt(_))));
        let extra = [
            ("first", Value::from(1i64)),
            ("second", Value::from(2i64)),
            ("third", Value::from(3i64)),
        ];
        assert!(matches!(
            TWO.statement(DbBackend::Sqlite, &extra),
            Err(RepoError::Corrupt(_))
        ));
    }

    #[test]
    fn hand_written_sql_binds_where_it_writes() {
        for (backend, expected) in [
            (DbBackend::Sqlite, "a = ? AND b = ?"),
            (DbBackend::Postgres, "a = $1 AND b = $2"),
        ] {
            let mut sql = SqlText::new(backend);
            sql.push("a = ").bind(1i64).push(" AND b = ").bind("x");
            let statement = sql.statement();
            assert_eq!(statement.sql, expected);
            let values = statement.values.map(|v| v.0).unwrap_or_default();
            assert_eq!(values, vec![Value::from(1i64), Value::from("x")]);
        }
    }
}
