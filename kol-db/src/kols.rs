//! Creators: create, upsert by `(platform, username)`, read, list with filters, delete.

use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use kol_core::{Handle, Kol, KolFilter, KolId, NewKol};

use crate::database::Database;
use crate::error::{Cause, DbError, Result};
use crate::filter_sql::{Bind, SqlFilter};
use crate::models::{KolRow, KolValues};
use crate::replicas::on_replica;
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
    /// Case- and accent-insensitive substring of the display name or the username (`%`, `_`
    /// and `\`, and what folds into them such as `％`, are literal characters, not wildcards).
    pub name_contains: Option<String>,
}

/// The `LIKE` pattern "contains the search text" for a bound parameter `p`, in SQL.
///
/// The text is folded first (`kol_fold`: `lower(unaccent(...))`, the same folding as the indexed
/// name), and only then are `\`, `%` and `_` escaped. Escaping before folding would miss the
/// characters unaccent folds into wildcards (`％` U+FF05 and `﹪` U+FE6A become `%`, `＿` U+FF3F
/// becomes `_`, `＼` U+FF3C, `﹨` U+FE68 and `∖` U+2216 become `\`), and a search for `％` would
/// match every creator.
fn contains_pattern_sql(p: &str) -> String {
    // E'' literals mean the same whatever `standard_conforming_strings` says: E'\\' is one
    // backslash, LIKE's escape character.
    format!(
        r"'%' || replace(replace(replace(kol_fold({p}), E'\\', E'\\\\'), '%', E'\\%'), '_', E'\\_') || '%'"
    )
}

impl Database {
    /// Stores a new creator.
    ///
    /// # Errors
    /// [`DbError::UniqueViolation`] when a creator with the same platform and username exists
    /// (use [`Database::upsert_kol`] to update it instead).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
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
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn upsert_kol(&self, kol: &NewKol) -> Result<Upserted> {
        let mut conn = self.conn().await?;
        upsert_kol_on(&mut conn, kol).await
    }

    /// The creator with this id.
    ///
    /// # Errors
    /// [`DbError::NotFound`], or [`DbError::InvalidStoredData`] when the row fails validation.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn kol(&self, id: KolId) -> Result<Kol> {
        let row: Option<KolRow> =
            on_replica!(self, "kol", async |conn: &mut AsyncPgConnection| {
                Ok(kols::table
                    .find(id.get())
                    .select(KolRow::as_select())
                    .first(conn)
                    .await
                    .optional()?)
            })?;
        row.ok_or_else(|| DbError::not_found("kol", id))?.into_kol()
    }

    /// The creators with these ids, by id (ids that do not exist are absent).
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`] when a row fails validation.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn kols_by_ids(
        &self,
        ids: &[KolId],
    ) -> Result<std::collections::BTreeMap<KolId, Kol>> {
        let rows: Vec<KolRow> =
            on_replica!(self, "kols_by_ids", async |conn: &mut AsyncPgConnection| {
                Ok(kols::table
                    .filter(kols::id.eq_any(ids.iter().map(|id| id.get())))
                    .select(KolRow::as_select())
                    .load(conn)
                    .await?)
            })?;
        rows.into_iter()
            .map(|r| r.into_kol().map(|k| (k.id, k)))
            .collect()
    }

    /// The creator with this handle.
    ///
    /// # Errors
    /// As [`Database::kol`].
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn kol_by_handle(&self, handle: &Handle) -> Result<Kol> {
        let row: Option<KolRow> = on_replica!(
            self,
            "kol_by_handle",
            async |conn: &mut AsyncPgConnection| {
                Ok(kols::table
                    .filter(kols::platform.eq(handle.platform().as_str()))
                    .filter(kols::username.eq(handle.username().as_str()))
                    .select(KolRow::as_select())
                    .first(conn)
                    .await
                    .optional()?)
            }
        )?;
        row.ok_or_else(|| DbError::not_found("kol", handle))?
            .into_kol()
    }

    /// Creators matching `query`, in id order, one page at a time.
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for a bad page size; connection errors;
    /// [`DbError::InvalidStoredData`] for a row that fails validation.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
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
            let p = f.bind(Bind::Text(name.to_owned()));
            f.clauses.push(format!(
                "kol_fold(coalesce(k.display_name, '') || ' ' || k.username) LIKE {}",
                contains_pattern_sql(&p)
            ));
        }
        let condition = f.condition();
        // One row more than the page: whether it exists says whether there is a next page, so
        // the last page never points to an empty one.
        let limit_p = f.bind(Bind::BigInt(limit + 1));
        let sql = format!("SELECT k.* FROM kols k WHERE {condition} ORDER BY k.id LIMIT {limit_p}");
        let rows: Vec<KolRow> =
            on_replica!(self, "list_kols", async |conn: &mut AsyncPgConnection| {
                Ok(f.bind_all(diesel::sql_query(sql.as_str()).into_boxed())
                    .load(conn)
                    .await?)
            })?;
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
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn count_kols(&self) -> Result<u64> {
        let n: i64 = on_replica!(self, "count_kols", async |conn: &mut AsyncPgConnection| {
            Ok(kols::table.count().get_result(conn).await?)
        })?;
        Ok(n.unsigned_abs())
    }

    /// Deletes a creator with its media and rate cards (one statement, so all or nothing).
    ///
    /// # Errors
    /// [`DbError::NotFound`]; [`DbError::RuleViolation`] while the creator has conversations:
    /// outreach history is never deleted by a cascade.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
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

/// Rows per multi-row statement below (10 parameters a row; PostgreSQL allows 65,535).
const ROWS_PER_STATEMENT: usize = 2_000;

/// The stored creators with these handles (absent ones are not returned), locked `FOR UPDATE`
/// until the end of the caller's transaction, so they cannot change or vanish before it writes.
/// Locks are taken in id order, so two imports locking overlapping sets cannot deadlock.
///
/// # Errors
/// Connection errors; [`DbError::InvalidStoredData`] for a row kol-core refuses.
pub(crate) async fn lock_kols_by_handle(
    conn: &mut AsyncPgConnection,
    handles: &[&Handle],
) -> Result<Vec<Kol>> {
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    let platforms: Vec<&str> = handles.iter().map(|h| h.platform().as_str()).collect();
    let usernames: Vec<&str> = handles.iter().map(|h| h.username().as_str()).collect();
    let rows: Vec<KolRow> = diesel::sql_query(
        "SELECT k.* FROM kols k \
         JOIN unnest($1::text[], $2::text[]) AS h(platform, username) \
           ON k.platform = h.platform AND k.username = h.username \
         ORDER BY k.id FOR UPDATE OF k",
    )
    .bind::<Array<Text>, _>(platforms)
    .bind::<Array<Text>, _>(usernames)
    .load(conn)
    .await?;
    rows.into_iter().map(KolRow::into_kol).collect()
}

/// Inserts the creators whose handle is not stored yet; returns the ids of those inserted. A
/// handle already stored (by a concurrent writer since the caller looked) is left alone and
/// absent from the result.
///
/// # Errors
/// Connection errors, or a [`DbError::RuleViolation`] from a rule of the database.
pub(crate) async fn insert_new_kols(
    conn: &mut AsyncPgConnection,
    kols: &[&NewKol],
) -> Result<HashMap<Handle, KolId>> {
    let by_key: HashMap<(&str, &str), &Handle> = kols
        .iter()
        .map(|k| {
            let h = &k.handle;
            ((h.platform().as_str(), h.username().as_str()), h)
        })
        .collect();
    let values: Vec<KolValues<'_>> = kols.iter().map(|k| KolValues::new(k)).collect();
    let mut out = HashMap::with_capacity(kols.len());
    for chunk in values.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(i64, String, String)> = diesel::insert_into(kols::table)
            .values(chunk)
            .on_conflict((kols::platform, kols::username))
            .do_nothing()
            .returning((kols::id, kols::platform, kols::username))
            .get_results(conn)
            .await?;
        for (id, platform, username) in rows {
            if let Some(handle) = by_key.get(&(platform.as_str(), username.as_str())) {
                out.insert((*handle).clone(), KolId(id));
            }
        }
    }
    Ok(out)
}

/// Replaces every field but the handle of stored creators, by id, with these values: one
/// `UPDATE ... FROM (VALUES ...)` per chunk. The caller holds their row locks
/// ([`lock_kols_by_handle`]), so each row exists and takes the update.
///
/// # Errors
/// Connection errors, or a [`DbError::RuleViolation`] from a rule of the database.
pub(crate) async fn rewrite_kols(
    conn: &mut AsyncPgConnection,
    kols: &[(KolId, &NewKol)],
) -> Result<()> {
    use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable};
    // The type of each value of a row, in bind order.
    const CASTS: [&str; 9] = [
        "bigint", "text", "text[]", "integer", "text", "text", "text[]", "jsonb", "integer",
    ];
    for chunk in kols.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| {
                let values: Vec<String> = CASTS
                    .iter()
                    .enumerate()
                    .map(|(c, cast)| format!("${}::{cast}", r * CASTS.len() + c + 1))
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        let sql = format!(
            "UPDATE kols AS k SET display_name = v.display_name, category = v.category, \
             followers = v.followers, country = v.country, contact = v.contact, \
             sample_links = v.sample_links, extra = v.extra, audience_th_pct = v.audience_th_pct \
             FROM (VALUES {}) AS v(id, display_name, category, followers, country, contact, \
             sample_links, extra, audience_th_pct) WHERE k.id = v.id",
            rows.join(", ")
        );
        let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
        for (id, kol) in chunk {
            let v = KolValues::new(kol);
            query = query
                .bind::<BigInt, _>(id.get())
                .bind::<Nullable<Text>, _>(v.display_name)
                .bind::<Array<Text>, _>(v.category)
                .bind::<Nullable<Integer>, _>(v.followers)
                .bind::<Nullable<Text>, _>(v.country)
                .bind::<Nullable<Text>, _>(v.contact)
                .bind::<Array<Text>, _>(v.sample_links)
                .bind::<Jsonb, _>(v.extra)
                .bind::<Nullable<Integer>, _>(v.audience_th_pct);
        }
        let n = query.execute(conn).await?;
        if n != chunk.len() {
            // Cannot happen while the caller holds the row locks; refuse rather than report
            // updates that did not happen.
            return Err(DbError::TransactionConflict(Cause::message(format!(
                "updated {n} of {} locked creators",
                chunk.len()
            ))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_checked() {
        assert!(Page::first(0).check().is_err());
        assert!(Page::first(10_001).check().is_err());
        assert_eq!(Page::first(50).check().unwrap(), 50);
    }
}
