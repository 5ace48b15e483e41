//! Creators: create, upsert by `(platform, username)`, read, list with filters, delete.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::RunQueryDsl;
use kol_core::{Handle, Kol, KolFilter, KolId, NewKol};

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::filter_sql::{Bind, SqlFilter};
use crate::models::{KolRow, KolValues};
use crate::schema::kols;

/// Whether an upsert created the row or updated an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// A new row.
    Inserted,
    /// An existing row (same platform and username), now updated.
    Updated,
}

/// The id of an upserted creator, and what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    /// The creator's id (the existing one on update).
    pub id: KolId,
    /// Inserted or updated.
    pub outcome: UpsertOutcome,
}

/// A page request: keyset pagination in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Largest number of rows to return (`1..=10_000`).
    pub limit: u32,
    /// Only rows with an id greater than this (the `next` of the previous page).
    pub after: Option<KolId>,
}

impl Page {
    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    fn check(&self) -> Result<i64> {
        if self.limit == 0 || self.limit > 10_000 {
            return Err(DbError::argument(
                "limit",
                format!("must be 1..=10000, got {}", self.limit),
            ));
        }
        Ok(i64::from(self.limit))
    }
}

/// A page of creators.
#[derive(Debug, Clone, PartialEq)]
pub struct KolPage {
    /// The creators, in id order.
    pub kols: Vec<Kol>,
    /// The request for the next page, or `None` when this was the last (a full last page also
    /// says `None`: the query looks one row ahead).
    pub next: Option<Page>,
}

/// The input of [`Database::list_kols`]: which creators to list (filters plus a name search).
/// The result comes back one [`KolPage`] at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KolQuery {
    /// The filters shared with the creator search.
    pub filter: KolFilter,
    /// Case- and accent-insensitive substring of the display name or the username.
    pub name_contains: Option<String>,
}

/// Escapes the `LIKE` wildcards of a user's search text.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Database {
    /// Stores a new creator.
    ///
    /// # Errors
    /// [`DbError::UniqueViolation`] when a creator with the same platform and username exists
    /// (use [`Database::upsert_kol`] to update it instead).
    pub async fn create_kol(&self, kol: &NewKol) -> Result<Kol> {
        let mut conn = self.conn().await?;
        let row: KolRow = diesel::insert_into(kols::table)
            .values(KolValues::new(kol))
            .returning(KolRow::as_returning())
            .get_result(&mut conn)
            .await?;
        row.into_kol()
    }

    /// Stores a creator, or updates the one with the same `(platform, username)`: re-importing a
    /// creator updates it and never duplicates it. Every column is replaced; `id` and
    /// `created_at` stay.
    ///
    /// # Errors
    /// Connection errors, or a [`DbError::RuleViolation`] from a rule of the database.
    pub async fn upsert_kol(&self, kol: &NewKol) -> Result<Upserted> {
        let mut conn = self.conn().await?;
        upsert_kol_on(&mut conn, kol).await
    }

    /// The creator with this id.
    ///
    /// # Errors
    /// [`DbError::NotFound`], or [`DbError::InvalidStoredData`] when the row fails validation.
    pub async fn kol(&self, id: KolId) -> Result<Kol> {
        let mut conn = self.conn().await?;
        let row: Option<KolRow> = kols::table
            .find(id.get())
            .select(KolRow::as_select())
            .first(&mut conn)
            .await
            .optional()?;
        row.ok_or_else(|| DbError::not_found("kol", id))?.into_kol()
    }

    /// The creators with these ids, by id (ids that do not exist are absent).
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`] when a row fails validation.
    pub async fn kols_by_ids(
        &self,
        ids: &[KolId],
    ) -> Result<std::collections::BTreeMap<KolId, Kol>> {
        let mut conn = self.conn().await?;
        let rows: Vec<KolRow> = kols::table
            .filter(kols::id.eq_any(ids.iter().map(|id| id.get())))
            .select(KolRow::as_select())
            .load(&mut conn)
            .await?;
        rows.into_iter()
            .map(|r| r.into_kol().map(|k| (k.id, k)))
            .collect()
    }

    /// The creator with this handle.
    ///
    /// # Errors
    /// As [`Database::kol`].
    pub async fn kol_by_handle(&self, handle: &Handle) -> Result<Kol> {
        let mut conn = self.conn().await?;
        let row: Option<KolRow> = kols::table
            .filter(kols::platform.eq(handle.platform().as_str()))
            .filter(kols::username.eq(handle.username().as_str()))
            .select(KolRow::as_select())
            .first(&mut conn)
            .await
            .optional()?;
        row.ok_or_else(|| DbError::not_found("kol", handle))?
            .into_kol()
    }

    /// Creators matching `query`, in id order, one page at a time.
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for a bad page size; connection errors;
    /// [`DbError::InvalidStoredData`] for a row that fails validation.
    pub async fn list_kols(&self, query: &KolQuery, page: Page) -> Result<KolPage> {
        let limit = page.check()?;
        let mut f = SqlFilter::new(&query.filter, 1);
        if let Some(after) = page.after {
            let p = f.bind(Bind::BigInt(after.get()));
            f.clauses.push(format!("k.id > {p}"));
        }
        let name = query
            .name_contains
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(name) = name {
            let p = f.bind(Bind::Text(like_escape(name)));
            f.clauses.push(format!(
                "kol_fold(coalesce(k.display_name, '') || ' ' || k.username) LIKE '%' || kol_fold({p}) || '%'"
            ));
        }
        let condition = f.condition();
        // One row more than the page: whether it exists says whether there is a next page, so
        // the last page never points to an empty one.
        let limit_p = f.bind(Bind::BigInt(limit + 1));
        let sql = format!("SELECT k.* FROM kols k WHERE {condition} ORDER BY k.id LIMIT {limit_p}");
        let mut conn = self.conn().await?;
        let rows: Vec<KolRow> = f
            .bind_all(diesel::sql_query(sql).into_boxed())
            .load(&mut conn)
            .await?;
        let more = rows.len() > page.limit as usize;
        let kols = rows
            .into_iter()
            .take(page.limit as usize)
            .map(KolRow::into_kol)
            .collect::<Result<Vec<_>>>()?;
        let next = match kols.last() {
            Some(last) if more => Some(Page {
                limit: page.limit,
                after: Some(last.id),
            }),
            _ => None,
        };
        Ok(KolPage { kols, next })
    }

    /// Number of stored creators.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn count_kols(&self) -> Result<u64> {
        let mut conn = self.conn().await?;
        let n: i64 = kols::table.count().get_result(&mut conn).await?;
        Ok(n.unsigned_abs())
    }

    /// Deletes a creator with its media and rate cards (one statement, so all or nothing).
    ///
    /// # Errors
    /// [`DbError::NotFound`]; [`DbError::RuleViolation`] while the creator has conversations:
    /// outreach history is never deleted by a cascade.
    pub async fn delete_kol(&self, id: KolId) -> Result<()> {
        let mut conn = self.conn().await?;
        let n = diesel::delete(kols::table.find(id.get()))
            .execute(&mut conn)
            .await?;
        if n == 0 {
            Err(DbError::not_found("kol", id))
        } else {
            Ok(())
        }
    }
}

/// Upsert on a given connection (inside a caller's transaction, for imports).
pub(crate) async fn upsert_kol_on(
    conn: &mut diesel_async::AsyncPgConnection,
    kol: &NewKol,
) -> Result<Upserted> {
    let values = KolValues::new(kol);
    // `xmax = 0` holds for a freshly inserted row version, not for an updated one.
    let (id, inserted): (i64, bool) = diesel::insert_into(kols::table)
        .values(&values)
        .on_conflict((kols::platform, kols::username))
        .do_update()
        .set(&values)
        .returning((kols::id, sql::<Bool>("xmax = 0")))
        .get_result(conn)
        .await?;
    let outcome = if inserted {
        UpsertOutcome::Inserted
    } else {
        UpsertOutcome::Updated
    };
    Ok(Upserted {
        id: KolId(id),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(like_escape("porji"), "porji");
    }

    #[test]
    fn page_sizes_are_checked() {
        assert!(Page::first(0).check().is_err());
        assert!(Page::first(10_001).check().is_err());
        assert_eq!(Page::first(50).check().unwrap(), 50);
    }
}
