//! Bulk import of a creator catalogue: creators with their media, embeddings and rate cards.
//!
//! The import streams: it takes entries from an iterator a batch at a time, so memory holds one
//! batch, never the whole catalogue. Each batch is a few multi-row statements (an upsert of the
//! creators, then their media and rate cards), all inside one transaction: the import is all or
//! nothing. Re-importing a creator updates it (by `(platform, username)`) and replaces its media
//! and rate cards with the entry's: the catalogue is the source of truth for the creators it holds.
//!
//! Searches keep answering during an import. The import never drops the vector index: while it
//! loads, the current index is kept up to date row by row (a search sees neither the new rows
//! nor the index entries of the import before its commit, as with any transaction). By default
//! a fresh index is then built beside it, with the same definition, inside the import's
//! transaction (an index built once over the whole table has better recall than one kept up to
//! date row by row: pgvector's ivfflat places lists when it is built), and takes the current
//! index's place just before the commit: the swap needs `kol_media` to itself for a moment, so
//! it waits for running searches a little at a time (see
//! [`Database::import_catalogue`]). At the commit, the new rows and the new index appear
//! together; on any error neither does. Turn [`ImportOptions::rebuild_vector_index`] off to
//! skip the rebuild (quicker for small imports into a large catalogue).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use kol_core::{CatalogueEntry, Handle, KolId, NewKol};

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::kols::UpsertOutcome;
use crate::models::{KolValues, MediaValues, RateCardValues};
use crate::schema::{kol_media, kols, rate_cards};
use crate::search::{
    lock_index_maintenance, rebuild_in_transaction, unlock_index_maintenance,
    vector_index_definition,
};

/// Settings of [`Database::import_catalogue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Creators per batch (default 1,000; `1..=5_000`).
    pub batch_size: usize,
    /// After the load, build a fresh vector index (same definition) beside the current one and
    /// swap it in before the commit (default `true`). Off, the current index, kept up to date
    /// row by row during the load, stays.
    ///
    /// The current index is maintained row by row during the load either way: cheap for
    /// ivfflat, much slower for hnsw (each row is inserted into the graph). For a first bulk
    /// load into an empty catalogue served through hnsw, load with the default ivfflat index and
    /// call [`Database::rebuild_vector_index`] with hnsw afterwards.
    pub rebuild_vector_index: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            batch_size: 1_000,
            rebuild_vector_index: true,
        }
    }
}

/// Where an import is, reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Creators written so far.
    pub creators: u64,
    /// How many creators the input holds, when the iterator knows (`ExactSizeIterator`).
    pub total: Option<u64>,
    /// Pictures written so far.
    pub media: u64,
    /// Rate-card items written so far.
    pub rate_cards: u64,
    /// The phase the import is in.
    pub phase: ImportPhase,
}

/// Phases of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportPhase {
    /// Writing rows.
    Loading,
    /// Rows written; building the new vector index beside the current one and swapping it in
    /// (before the commit).
    Indexing,
    /// Finished.
    Done,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    /// New creators.
    pub inserted: u64,
    /// Existing creators updated, counting each repeat of a creator listed more than once in
    /// the input (the later entry wins, as with two upserts in a row).
    pub updated: u64,
    /// Pictures written.
    pub media: u64,
    /// Rate-card items written.
    pub rate_cards: u64,
    /// Time spent writing rows.
    pub load_time: Duration,
    /// Time spent building the new vector index and swapping it in.
    pub index_time: Duration,
}

/// Upserts creators with distinct handles in multi-row statements; returns each creator's
/// `(platform, username)`, id and whether it was inserted or updated.
pub(crate) async fn upsert_kols(
    conn: &mut AsyncPgConnection,
    kols: &[&NewKol],
) -> Result<Vec<((String, String), KolId, UpsertOutcome)>> {
    let values: Vec<KolValues<'_>> = kols.iter().map(|k| KolValues::new(k)).collect();
    let mut out = Vec::with_capacity(kols.len());
    for chunk in values.chunks(ROWS_PER_STATEMENT / 2) {
        let rows: Vec<(i64, String, String, bool)> = diesel::insert_into(kols::table)
            .values(chunk)
            .on_conflict((kols::platform, kols::username))
            .do_update()
            .set((
                kols::display_name.eq(excluded(kols::display_name)),
                kols::category.eq(excluded(kols::category)),
                kols::followers.eq(excluded(kols::followers)),
                kols::country.eq(excluded(kols::country)),
                kols::contact.eq(excluded(kols::contact)),
                kols::sample_links.eq(excluded(kols::sample_links)),
                kols::extra.eq(excluded(kols::extra)),
                kols::audience_th_pct.eq(excluded(kols::audience_th_pct)),
            ))
            // `xmax = 0` holds for a freshly inserted row version, not for an updated one.
            .returning((
                kols::id,
                kols::platform,
                kols::username,
                sql::<Bool>("xmax = 0"),
            ))
            .get_results(conn)
            .await?;
        out.extend(rows.into_iter().map(|(id, platform, username, inserted)| {
            let outcome = if inserted {
                UpsertOutcome::Inserted
            } else {
                UpsertOutcome::Updated
            };
            ((platform, username), KolId(id), outcome)
        }));
    }
    Ok(out)
}

/// Largest number of rows in one multi-row INSERT (PostgreSQL allows 65,535 parameters).
const ROWS_PER_STATEMENT: usize = 5_000;

impl Database {
    /// Imports a catalogue in one transaction, reporting progress after every batch.
    ///
    /// Searches go on during the import and see the catalogue as it was until the commit, then
    /// the imported one (see the [module docs](crate::import)). With
    /// [`ImportOptions::rebuild_vector_index`], the new index is built beside the current one
    /// (writes of pictures by other clients wait for the commit from then on) and swapped in:
    /// each swap attempt waits at most 300 ms for running searches (searches that arrive
    /// meanwhile wait behind it, so that bounds their delay) and is tried again after a pause;
    /// after 10 s of attempts, one attempt waits as long as it takes. Imports that rebuild the
    /// index, and [`Database::rebuild_vector_index`], run one at a time: a second one waits.
    ///
    /// The import runs on its own connection without statement or lock timeouts (it is a long
    /// job); the idle-in-transaction timeout
    /// ([`DbConfig::idle_in_transaction_session_timeout`](crate::DbConfig)) still applies, so
    /// `entries` must yield each batch within it.
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for a batch size out of range or an entry listing the same
    /// rate-card item twice (checked per batch before writing); database and connection errors.
    /// On any error nothing of the import is kept, and the vector index stays as it was.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn import_catalogue<I>(
        &self,
        entries: I,
        options: &ImportOptions,
        mut progress: impl FnMut(&ImportProgress) + Send,
    ) -> Result<ImportReport>
    where
        I: IntoIterator<Item = CatalogueEntry>,
        I::IntoIter: Send,
    {
        if !(1..=5_000).contains(&options.batch_size) {
            return Err(DbError::argument(
                "batch_size",
                format!("must be 1..=5000, got {}", options.batch_size),
            ));
        }
        let mut entries = entries.into_iter();
        let total = match entries.size_hint() {
            (lo, Some(hi)) if lo == hi => Some(lo as u64),
            _ => None,
        };
        let started = Instant::now();
        let mut conn = self.maintenance_conn().await?;
        let batch_size = options.batch_size;
        let rebuild = options.rebuild_vector_index;
        if rebuild {
            lock_index_maintenance(&mut conn).await?;
        }
        let imported = conn
            .transaction::<_, DbError, _>(async |conn| {
                let mut report = ImportReport {
                    inserted: 0,
                    updated: 0,
                    media: 0,
                    rate_cards: 0,
                    load_time: Duration::ZERO,
                    index_time: Duration::ZERO,
                };
                let mut state = ImportProgress {
                    creators: 0,
                    total,
                    media: 0,
                    rate_cards: 0,
                    phase: ImportPhase::Loading,
                };
                let index = if rebuild {
                    vector_index_definition(conn).await?
                } else {
                    None
                };
                loop {
                    let batch: Vec<CatalogueEntry> = entries.by_ref().take(batch_size).collect();
                    if batch.is_empty() {
                        break;
                    }
                    import_batch(conn, batch, &mut report).await?;
                    state.creators = report.inserted + report.updated;
                    state.media = report.media;
                    state.rate_cards = report.rate_cards;
                    tracing::debug!(
                        creators = state.creators,
                        total = state.total,
                        "catalogue import: batch loaded"
                    );
                    progress(&state);
                }
                report.load_time = started.elapsed();
                tracing::info!(
                    creators = report.inserted + report.updated,
                    media = report.media,
                    rate_cards = report.rate_cards,
                    load_ms = report.load_time.as_millis() as u64,
                    "catalogue import: loaded"
                );
                if let Some(definition) = index {
                    state.phase = ImportPhase::Indexing;
                    tracing::info!("catalogue import: building the new vector index");
                    progress(&state);
                    let t = Instant::now();
                    rebuild_in_transaction(conn, &definition).await?;
                    report.index_time = t.elapsed();
                    tracing::info!(
                        index_ms = report.index_time.as_millis() as u64,
                        "catalogue import: vector index built and swapped in"
                    );
                }
                Ok((report, (state, progress)))
            })
            .await;
        if rebuild {
            unlock_index_maintenance(&mut conn).await;
        }
        let (report, (mut state, mut progress)) = imported?;
        state.phase = ImportPhase::Done;
        progress(&state);
        Ok(report)
    }
}

async fn import_batch(
    conn: &mut AsyncPgConnection,
    batch: Vec<CatalogueEntry>,
    report: &mut ImportReport,
) -> Result<()> {
    // The same creator twice in one statement would make the upsert fail; the later entry wins,
    // as with two upserts in a row.
    let mut last: HashMap<Handle, usize> = HashMap::with_capacity(batch.len());
    for (i, entry) in batch.iter().enumerate() {
        let mut seen = std::collections::HashSet::new();
        if let Some(card) = entry
            .rate_cards
            .iter()
            .find(|c| !seen.insert(c.item.clone()))
        {
            return Err(DbError::argument(
                "rate_cards",
                format!("{} lists item {} twice", entry.kol.handle, card.item),
            ));
        }
        last.insert(entry.kol.handle.clone(), i);
    }
    let listed = batch.len();
    let batch: Vec<CatalogueEntry> = batch
        .into_iter()
        .enumerate()
        .filter(|(i, e)| last.get(&e.kol.handle) == Some(i))
        .map(|(_, e)| e)
        .collect();
    // Each repeat is an update of the creator its earlier entry wrote, as two upserts would be.
    report.updated += (listed - batch.len()) as u64;

    let kols: Vec<&NewKol> = batch.iter().map(|e| &e.kol).collect();
    let mut ids: HashMap<(String, String), KolId> = HashMap::with_capacity(batch.len());
    let mut updated_ids = Vec::new();
    for (handle_key, id, outcome) in upsert_kols(conn, &kols).await? {
        match outcome {
            UpsertOutcome::Inserted => report.inserted += 1,
            UpsertOutcome::Updated => {
                report.updated += 1;
                updated_ids.push(id.get());
            }
        }
        ids.insert(handle_key, id);
    }
    if !updated_ids.is_empty() {
        diesel::delete(kol_media::table.filter(kol_media::kol_id.eq_any(&updated_ids)))
            .execute(conn)
            .await?;
        diesel::delete(rate_cards::table.filter(rate_cards::kol_id.eq_any(&updated_ids)))
            .execute(conn)
            .await?;
    }
    let id_of = |handle: &Handle| -> Result<KolId> {
        let key = (
            handle.platform().as_str().to_owned(),
            handle.username().as_str().to_owned(),
        );
        ids.get(&key)
            .copied()
            .ok_or_else(|| DbError::not_found("kol", handle))
    };
    let mut media = Vec::new();
    let mut cards = Vec::new();
    for entry in &batch {
        let id = id_of(&entry.kol.handle)?;
        media.extend(entry.media.iter().map(|m| MediaValues::new(id, m)));
        cards.extend(entry.rate_cards.iter().map(|c| RateCardValues::new(id, c)));
    }
    for chunk in media.chunks(ROWS_PER_STATEMENT) {
        report.media += diesel::insert_into(kol_media::table)
            .values(chunk)
            .execute(conn)
            .await? as u64;
    }
    for chunk in cards.chunks(ROWS_PER_STATEMENT) {
        report.rate_cards += diesel::insert_into(rate_cards::table)
            .values(chunk)
            .execute(conn)
            .await? as u64;
    }
    Ok(())
}
