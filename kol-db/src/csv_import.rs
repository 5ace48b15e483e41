//! CSV import of creators in the column layout of the platform's earlier version (the
//! repository's docs/SCHEMA.md records that version's rules):
//! `platform, username, display_name, category, followers, country, contact, sample_links, extra,
//! audience_th_pct`.
//!
//! # What a file means
//!
//! - The header names the columns (any order, case-insensitive); `platform` and `username` are
//!   required, the others optional; an unknown column is an error (a typo would silently drop
//!   data otherwise).
//! - **A file changes only what it holds.** A column absent from the header leaves that field of
//!   existing creators as it is, and **an empty cell (or one of only spaces) means "not given"
//!   too**: it keeps the stored value. A spreadsheet shows the same empty cell for "unknown" and
//!   for "none", and an import cannot tell them apart, so it takes the reading that loses
//!   nothing. New creators get the empty default (no value, empty list, `{}`) for what is not
//!   given. To clear a field, give an explicit empty value where the column has one (`{}` or
//!   `[]` for `category` and `sample_links`, `{}` for `extra`), or use
//!   [`Database::upsert_kol`], which replaces every field.
//! - Array cells (`category`, `sample_links`) may be a PostgreSQL literal `{a,"b c"}`, a JSON array
//!   `["a", "b c"]`, or a comma-separated list `a, b c`; a given list replaces the stored one.
//! - `extra` is a JSON object; a given object replaces the stored one.
//! - When `username` is empty, or is itself a profile URL, the handle is read from the URL
//!   (`https://www.tiktok.com/@Porji?lang=th` gives `tiktok` / `porji`); a `platform` cell that
//!   disagrees with the URL skips the row.
//!
//! # What an import does
//!
//! Rows are upserted by `(platform, username)` in **one transaction**: a database or input error
//! aborts the whole import and keeps nothing. A row that fails validation is skipped and reported
//! with its line number and a [`SkipReason`] (cells echoed in reasons are cut to
//! [`ECHO_CHARS`] characters). The [`CsvImportReport`] counts the creators inserted and left
//! unchanged, and lists every update with the fields it changed, their old and new values.
//! [`CsvImportOptions::dry_run`] runs the same import and rolls it back: its report is what a
//! real run would do against the same data (only a concurrent writer can make them differ).
//!
//! # Bounded input
//!
//! The input is an async reader ([`tokio::io::AsyncRead`]; `&[u8]` is one) read in 64 KiB
//! pieces and parsed as it arrives (csv-core); memory holds one batch of rows (at most 1,000
//! rows or 8 MiB of records), never the file. A record longer than
//! [`CsvImportOptions::max_record_bytes`] or with a field longer than
//! [`CsvImportOptions::max_field_bytes`] is skipped over without being buffered and reported as a
//! skipped row (only a header over the limits fails the import). Rows are skipped rather than
//! failing the whole import because the other rows are still good, and the report names the
//! line to fix; a quote left open runs to the end of the file and shows up as one over-long row.
//!
//! The report grows with the rows it lists (one entry per skipped row and per update), and the
//! import remembers the id of each creator it inserts (to tell, in the report, an update of a
//! creator that existed before from one of a creator an earlier row created).

mod records;

use std::collections::{HashMap, HashSet};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use kol_core::{
    AudienceShare, Categories, CountryCode, Extra, Followers, Handle, KolId, Link, NewKol,
    PlainText, Platform,
};
use tokio::io::AsyncRead;

use crate::database::Database;
use crate::error::{Cause, DbError, Result};
use crate::kols::{insert_new_kols, lock_kols_by_handle, rewrite_kols};
use records::{Oversize, Record, RecordReader};

/// The columns the CSV import knows.
pub const CSV_COLUMNS: [&str; 10] = [
    "platform",
    "username",
    "display_name",
    "category",
    "followers",
    "country",
    "contact",
    "sample_links",
    "extra",
    "audience_th_pct",
];

/// Characters of a cell repeated in a skipped row's reason; longer cells are cut (on a character
/// boundary) and end with `…`.
pub const ECHO_CHARS: usize = 40;

/// Largest reason of a skipped row, in characters (a backstop behind [`ECHO_CHARS`]).
const MAX_REASON_CHARS: usize = 400;

/// Rows upserted per batch.
const BATCH_ROWS: usize = 1_000;
/// Bytes of records (as in the file) per batch.
const BATCH_BYTES: usize = 8 << 20;
/// Rounds of "lock the existing creators, insert the others" per batch before giving up; a new
/// round happens only when a concurrent writer inserted one of the batch's creators meanwhile.
const MAX_ROUNDS: usize = 4;

/// Settings of [`Database::import_csv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvImportOptions {
    /// Run the whole import, report it, and roll it back (default `false`).
    pub dry_run: bool,
    /// Longest record, in bytes as in the file with its line break (default 256 KiB; at most
    /// [`CsvImportOptions::MAX_RECORD_BYTES`]). Longer rows are skipped; a longer header fails
    /// the import.
    pub max_record_bytes: usize,
    /// Longest field, in bytes after unquoting (default 64 KiB; `1..=max_record_bytes`).
    /// Rows with a longer field are skipped; a header with one fails the import.
    pub max_field_bytes: usize,
}

impl CsvImportOptions {
    /// Largest accepted [`CsvImportOptions::max_record_bytes`]: 64 MiB.
    pub const MAX_RECORD_BYTES: usize = 64 << 20;

    /// The defaults, with [`CsvImportOptions::dry_run`] on.
    pub fn dry_run() -> Self {
        Self {
            dry_run: true,
            ..Self::default()
        }
    }

    fn check(&self) -> Result<()> {
        if !(1..=Self::MAX_RECORD_BYTES).contains(&self.max_record_bytes) {
            return Err(DbError::argument(
                "max_record_bytes",
                format!(
                    "must be 1..={}, got {}",
                    Self::MAX_RECORD_BYTES,
                    self.max_record_bytes
                ),
            ));
        }
        if !(1..=self.max_record_bytes).contains(&self.max_field_bytes) {
            return Err(DbError::argument(
                "max_field_bytes",
                format!(
                    "must be 1..=max_record_bytes ({}), got {}",
                    self.max_record_bytes, self.max_field_bytes
                ),
            ));
        }
        Ok(())
    }
}

impl Default for CsvImportOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            max_record_bytes: 256 << 10,
            max_field_bytes: 64 << 10,
        }
    }
}

/// Why a row was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// A cell fails validation (the reason quotes at most [`ECHO_CHARS`] characters of it).
    #[error("{column}: {reason}")]
    InvalidCell {
        /// The column.
        column: &'static str,
        /// What is wrong with the cell.
        reason: String,
    },
    /// The row does not have one cell per column of the header.
    #[error("the row has {found} fields, the header has {expected}")]
    FieldCount {
        /// Columns of the header.
        expected: usize,
        /// Fields of the row.
        found: usize,
    },
    /// The row is longer than [`CsvImportOptions::max_record_bytes`].
    #[error("the row is longer than {limit} bytes")]
    RecordTooLong {
        /// The limit.
        limit: usize,
    },
    /// A cell is longer than [`CsvImportOptions::max_field_bytes`].
    #[error("{column}: the cell is longer than {limit} bytes")]
    FieldTooLong {
        /// Its column.
        column: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A cell is not valid UTF-8.
    #[error("{column}: the cell is not valid UTF-8")]
    NotUtf8 {
        /// The column.
        column: &'static str,
    },
}

/// A row the import skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    /// Line of the row in the input (1 is the header; a row spanning lines gives its first).
    pub line: u64,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// A field of a creator that an import can change (named by its CSV column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KolField {
    /// `display_name`.
    DisplayName,
    /// `category`.
    Categories,
    /// `followers`.
    Followers,
    /// `country`.
    Country,
    /// `contact`.
    Contact,
    /// `sample_links`.
    SampleLinks,
    /// `extra`.
    Extra,
    /// `audience_th_pct`.
    AudienceThPct,
}

impl KolField {
    /// The CSV column (and database column) of the field.
    pub fn column(self) -> &'static str {
        match self {
            Self::DisplayName => "display_name",
            Self::Categories => "category",
            Self::Followers => "followers",
            Self::Country => "country",
            Self::Contact => "contact",
            Self::SampleLinks => "sample_links",
            Self::Extra => "extra",
            Self::AudienceThPct => "audience_th_pct",
        }
    }
}

impl std::fmt::Display for KolField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.column())
    }
}

/// A value before and after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<T> {
    /// The stored value before the import.
    pub old: T,
    /// The value the import wrote.
    pub new: T,
}

/// One field an update changed, with its old and new values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldChange {
    /// The display name.
    DisplayName(Change<Option<PlainText>>),
    /// The categories.
    Categories(Change<Categories>),
    /// The follower count.
    Followers(Change<Option<Followers>>),
    /// The country.
    Country(Change<Option<CountryCode>>),
    /// The contact.
    Contact(Change<Option<PlainText>>),
    /// The sample links.
    SampleLinks(Change<Vec<Link>>),
    /// The extra JSON object.
    Extra(Change<Extra>),
    /// The Thai audience share.
    AudienceThPct(Change<Option<AudienceShare>>),
}

impl FieldChange {
    /// The field that changed.
    pub fn field(&self) -> KolField {
        match self {
            Self::DisplayName(_) => KolField::DisplayName,
            Self::Categories(_) => KolField::Categories,
            Self::Followers(_) => KolField::Followers,
            Self::Country(_) => KolField::Country,
            Self::Contact(_) => KolField::Contact,
            Self::SampleLinks(_) => KolField::SampleLinks,
            Self::Extra(_) => KolField::Extra,
            Self::AudienceThPct(_) => KolField::AudienceThPct,
        }
    }
}

/// `followers: 120000 -> 130000` (`(none)` for no value; lists and `extra` as JSON).
impl std::fmt::Display for FieldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
            v.as_ref()
                .map_or_else(|| "(none)".to_owned(), ToString::to_string)
        }
        fn json<T: serde::Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap_or_else(|_| "?".to_owned())
        }
        let (old, new) = match self {
            Self::DisplayName(c) | Self::Contact(c) => (opt(&c.old), opt(&c.new)),
            Self::Categories(c) => (json(&c.old), json(&c.new)),
            Self::Followers(c) => (opt(&c.old), opt(&c.new)),
            Self::Country(c) => (opt(&c.old), opt(&c.new)),
            Self::SampleLinks(c) => (json(&c.old), json(&c.new)),
            Self::Extra(c) => (json(&c.old), json(&c.new)),
            Self::AudienceThPct(c) => (opt(&c.old), opt(&c.new)),
        };
        write!(f, "{}: {old} -> {new}", self.field())
    }
}

/// A row that changed an existing creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedKol {
    /// Line of the row.
    pub line: u64,
    /// The creator's id when it existed before the import; `None` when an earlier row of the
    /// same import created it (a dry run cannot know the id a real run would give it:
    /// PostgreSQL sequences are not rolled back).
    pub id: Option<KolId>,
    /// The creator.
    pub handle: Handle,
    /// The fields the row changed, in column order, never empty.
    pub changes: Vec<FieldChange>,
}

impl UpdatedKol {
    /// The fields the row changed, in column order.
    pub fn fields(&self) -> Vec<KolField> {
        self.changes.iter().map(FieldChange::field).collect()
    }
}

/// What a CSV import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvImportReport {
    /// Whether this was a dry run (then nothing was kept).
    pub dry_run: bool,
    /// New creators.
    pub inserted: u64,
    /// Rows that changed an existing creator (a creator listed twice in the file is updated by
    /// its second row), in input order, with the fields each changed.
    pub updated: Vec<UpdatedKol>,
    /// Rows that matched an existing creator and changed nothing (nothing was written).
    pub unchanged: u64,
    /// Rows skipped, in input order, each with its line number and reason.
    pub skipped: Vec<SkippedRow>,
}

/// How the import's transaction ends when it does not commit.
enum Abort {
    /// An error: nothing is kept.
    Failed(DbError),
    /// A dry run: everything is rolled back, the report is the result.
    DryRun(CsvImportReport),
}

impl From<DbError> for Abort {
    fn from(error: DbError) -> Self {
        Self::Failed(error)
    }
}

impl From<diesel::result::Error> for Abort {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl Database {
    /// Imports creators from CSV (see the [module docs](crate::csv_import) for what a file
    /// means), calling `progress` with the number of data rows read so far after every batch.
    ///
    /// The input is read as it arrives: pass a byte slice (`data.as_bytes()`), a
    /// `tokio::fs::File`, a network stream...
    ///
    /// Migrating from the earlier synchronous signature `import_csv(input: impl std::io::Read,
    /// progress)`: a byte slice stays as it is and takes `&CsvImportOptions::default()`; a
    /// `std::fs::File` becomes `tokio::fs::File::from_std(file)` (or `tokio::fs::File::open`);
    /// any other `std::io::Read` can be read into a `Vec<u8>` first (`&vec[..]` is a reader).
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for options out of range; [`DbError::CsvRead`] when reading
    /// the input fails; [`DbError::Csv`] for an empty input or a header that is over the limits,
    /// not UTF-8, lacks a required column or has an unknown or repeated one;
    /// [`DbError::InvalidStoredData`] when a creator the file updates is stored in a form kol-db
    /// cannot read; database and connection errors. On any error nothing is kept.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn import_csv<R>(
        &self,
        input: R,
        options: &CsvImportOptions,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<CsvImportReport>
    where
        R: AsyncRead + Unpin + Send,
    {
        options.check()?;
        let mut records =
            RecordReader::new(input, options.max_record_bytes, options.max_field_bytes);
        let mut record = Record::default();
        if !records
            .next_into(&mut record)
            .await
            .map_err(DbError::CsvRead)?
        {
            return Err(DbError::Csv("the input is empty: no header".to_owned()));
        }
        let columns = Columns::from_header(&record, options)?;
        records.set_max_fields(columns.width);
        let dry_run = options.dry_run;
        let mut conn = self.dedicated_conn().await?;
        let conn: &mut AsyncPgConnection = &mut conn;
        let outcome = conn
            .transaction::<_, Abort, _>(async |conn| {
                let mut import = Import::default();
                let mut rows = 0u64;
                while records
                    .next_into(&mut record)
                    .await
                    .map_err(DbError::CsvRead)?
                {
                    rows += 1;
                    match columns.parse(&record) {
                        Ok(patch) => {
                            // A creator seen twice: flush first, so the second row updates what
                            // the first wrote, as two imports in a row would.
                            if import.batch_handles.contains(&patch.handle)
                                || import.batch.len() == BATCH_ROWS
                                || import.batch_bytes >= BATCH_BYTES
                            {
                                import.flush(conn).await?;
                                progress(rows - 1);
                            }
                            import.push(record.line, record.bytes, patch);
                        }
                        Err(reason) => import.report.skipped.push(SkippedRow {
                            line: record.line,
                            reason,
                        }),
                    }
                }
                import.flush(conn).await?;
                progress(rows);
                let mut report = import.report;
                report.dry_run = dry_run;
                if dry_run {
                    Err(Abort::DryRun(report))
                } else {
                    Ok(report)
                }
            })
            .await;
        match outcome {
            Ok(report) | Err(Abort::DryRun(report)) => Ok(report),
            Err(Abort::Failed(error)) => Err(error),
        }
    }
}

/// A parsed row waiting for its batch to be written.
#[derive(Debug)]
struct PendingRow {
    line: u64,
    patch: KolPatch,
}

/// The state of an import: the report so far and the current batch.
#[derive(Debug, Default)]
struct Import {
    report: CsvImportReport,
    batch: Vec<PendingRow>,
    batch_handles: HashSet<Handle>,
    batch_bytes: usize,
    /// Creators this import inserted (an update of one of them has no id in the report).
    created: HashSet<KolId>,
}

impl Import {
    fn push(&mut self, line: u64, bytes: usize, patch: KolPatch) {
        self.batch_handles.insert(patch.handle.clone());
        self.batch_bytes += bytes;
        self.batch.push(PendingRow { line, patch });
    }

    /// Writes the batch: locks the creators that exist and updates those that change, inserts
    /// the others. A creator inserted meanwhile by a concurrent writer is found on the next
    /// round and updated.
    async fn flush(&mut self, conn: &mut AsyncPgConnection) -> Result<()> {
        tracing::debug!(rows = self.batch.len(), "CSV import: writing a batch");
        let mut pending = std::mem::take(&mut self.batch);
        self.batch_handles.clear();
        self.batch_bytes = 0;
        let mut updated = Vec::new();
        for round in 0..MAX_ROUNDS {
            if pending.is_empty() {
                break;
            }
            if round > 0 {
                tracing::debug!(
                    round,
                    creators = pending.len(),
                    "CSV import: creators inserted meanwhile by another client, retrying them as updates"
                );
            }
            let handles: Vec<&Handle> = pending.iter().map(|r| &r.patch.handle).collect();
            let existing: HashMap<Handle, (KolId, NewKol)> = lock_kols_by_handle(conn, &handles)
                .await?
                .into_iter()
                .map(|k| (k.profile.handle.clone(), (k.id, k.profile)))
                .collect();
            let mut rewrites: Vec<(KolId, NewKol)> = Vec::new();
            let mut new_rows: Vec<(PendingRow, NewKol)> = Vec::new();
            for row in pending.drain(..) {
                match existing.get(&row.patch.handle) {
                    Some((id, stored)) => {
                        let merged = row.patch.apply_to(stored);
                        let changes = changes(stored, &merged);
                        if changes.is_empty() {
                            self.report.unchanged += 1;
                        } else {
                            updated.push(UpdatedKol {
                                line: row.line,
                                id: (!self.created.contains(id)).then_some(*id),
                                handle: row.patch.handle.clone(),
                                changes,
                            });
                            rewrites.push((*id, merged));
                        }
                    }
                    None => {
                        let kol = row.patch.apply_to(&NewKol::new(row.patch.handle.clone()));
                        new_rows.push((row, kol));
                    }
                }
            }
            rewrite_kols(
                conn,
                &rewrites.iter().map(|(id, k)| (*id, k)).collect::<Vec<_>>(),
            )
            .await?;
            let inserted =
                insert_new_kols(conn, &new_rows.iter().map(|(_, k)| k).collect::<Vec<_>>()).await?;
            for (row, _) in new_rows {
                match inserted.get(&row.patch.handle) {
                    Some(id) => {
                        self.created.insert(*id);
                        self.report.inserted += 1;
                    }
                    None => pending.push(row),
                }
            }
        }
        if let Some(row) = pending.first() {
            return Err(DbError::TransactionConflict(Cause::message(format!(
                "creator {} kept being inserted and deleted by another client during the import",
                row.patch.handle
            ))));
        }
        updated.sort_by_key(|u| u.line);
        self.report.updated.extend(updated);
        Ok(())
    }
}

/// What one row gives: the handle, and each field the row gives a value for (`None`: not given,
/// keep what is stored).
#[derive(Debug, Clone, PartialEq)]
struct KolPatch {
    handle: Handle,
    display_name: Option<PlainText>,
    categories: Option<Categories>,
    followers: Option<Followers>,
    country: Option<CountryCode>,
    contact: Option<PlainText>,
    sample_links: Option<Vec<Link>>,
    extra: Option<Extra>,
    audience_th_pct: Option<AudienceShare>,
}

impl KolPatch {
    fn new(handle: Handle) -> Self {
        Self {
            handle,
            display_name: None,
            categories: None,
            followers: None,
            country: None,
            contact: None,
            sample_links: None,
            extra: None,
            audience_th_pct: None,
        }
    }

    /// `base` with the fields this row gives replaced.
    fn apply_to(&self, base: &NewKol) -> NewKol {
        fn set<T: Clone>(target: &mut T, value: Option<&T>) {
            if let Some(v) = value {
                target.clone_from(v);
            }
        }
        fn set_some<T: Clone>(target: &mut Option<T>, value: Option<&T>) {
            if let Some(v) = value {
                *target = Some(v.clone());
            }
        }
        let mut kol = base.clone();
        kol.handle.clone_from(&self.handle);
        set_some(&mut kol.display_name, self.display_name.as_ref());
        set(&mut kol.categories, self.categories.as_ref());
        set_some(&mut kol.followers, self.followers.as_ref());
        set_some(&mut kol.country, self.country.as_ref());
        set_some(&mut kol.contact, self.contact.as_ref());
        set(&mut kol.sample_links, self.sample_links.as_ref());
        set(&mut kol.extra, self.extra.as_ref());
        set_some(&mut kol.audience_th_pct, self.audience_th_pct.as_ref());
        kol
    }
}

/// The fields that differ between `old` and `new`, in column order.
fn changes(old: &NewKol, new: &NewKol) -> Vec<FieldChange> {
    fn change<T: Clone + PartialEq>(old: &T, new: &T) -> Option<Change<T>> {
        (old != new).then(|| Change {
            old: old.clone(),
            new: new.clone(),
        })
    }
    [
        change(&old.display_name, &new.display_name).map(FieldChange::DisplayName),
        change(&old.categories, &new.categories).map(FieldChange::Categories),
        change(&old.followers, &new.followers).map(FieldChange::Followers),
        change(&old.country, &new.country).map(FieldChange::Country),
        change(&old.contact, &new.contact).map(FieldChange::Contact),
        change(&old.sample_links, &new.sample_links).map(FieldChange::SampleLinks),
        change(&old.extra, &new.extra).map(FieldChange::Extra),
        change(&old.audience_th_pct, &new.audience_th_pct).map(FieldChange::AudienceThPct),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Positions of the known columns in the header.
#[derive(Debug)]
struct Columns {
    /// For each of [`CSV_COLUMNS`], its position in the header.
    index: [Option<usize>; CSV_COLUMNS.len()],
    /// The column at each position of the header.
    names: Vec<&'static str>,
    /// Number of columns of the header.
    width: usize,
    max_record_bytes: usize,
    max_field_bytes: usize,
}

impl Columns {
    fn from_header(header: &Record, options: &CsvImportOptions) -> Result<Self> {
        match header.oversize {
            Some(Oversize::Record) => {
                return Err(DbError::Csv(format!(
                    "the header is longer than {} bytes",
                    options.max_record_bytes
                )));
            }
            Some(Oversize::Field(i)) => {
                return Err(DbError::Csv(format!(
                    "column {} of the header is longer than {} bytes",
                    i + 1,
                    options.max_field_bytes
                )));
            }
            None => {}
        }
        let mut index = [None; CSV_COLUMNS.len()];
        let mut names = Vec::new();
        for (i, name) in header.fields().enumerate() {
            let name = std::str::from_utf8(name)
                .map_err(|_| DbError::Csv(format!("column {} of the header is not UTF-8", i + 1)))?
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase();
            let known = CSV_COLUMNS.iter().position(|c| *c == name).ok_or_else(|| {
                DbError::Csv(format!(
                    "unknown column {} in the header (known: {})",
                    echo(&name),
                    CSV_COLUMNS.join(", ")
                ))
            })?;
            if index[known].replace(i).is_some() {
                return Err(DbError::Csv(format!(
                    "column {name:?} appears twice in the header"
                )));
            }
            names.push(CSV_COLUMNS[known]);
        }
        for required in ["platform", "username"] {
            if !names.contains(&required) {
                return Err(DbError::Csv(format!(
                    "the header has no {required:?} column"
                )));
            }
        }
        Ok(Self {
            index,
            width: names.len(),
            names,
            max_record_bytes: options.max_record_bytes,
            max_field_bytes: options.max_field_bytes,
        })
    }

    /// The row's cells, trimmed, by header position; or why the row cannot be read.
    fn cells<'r>(&self, record: &'r Record) -> std::result::Result<Vec<&'r str>, SkipReason> {
        match record.oversize {
            Some(Oversize::Record) => {
                return Err(SkipReason::RecordTooLong {
                    limit: self.max_record_bytes,
                });
            }
            Some(Oversize::Field(i)) => {
                // Fields beyond the header's columns are not kept, so not measured either: such a
                // row has too many fields.
                return Err(match self.names.get(i) {
                    Some(&column) => SkipReason::FieldTooLong {
                        column,
                        limit: self.max_field_bytes,
                    },
                    None => SkipReason::FieldCount {
                        expected: self.width,
                        found: record.fields,
                    },
                });
            }
            None => {}
        }
        if record.fields != self.width {
            return Err(SkipReason::FieldCount {
                expected: self.width,
                found: record.fields,
            });
        }
        record
            .fields()
            .zip(&self.names)
            .map(|(bytes, &column)| {
                std::str::from_utf8(bytes)
                    .map(str::trim)
                    .map_err(|_| SkipReason::NotUtf8 { column })
            })
            .collect()
    }

    /// One row as the fields it gives, or the reason it cannot be imported.
    fn parse(&self, record: &Record) -> std::result::Result<KolPatch, SkipReason> {
        let cells = self.cells(record)?;
        let cell = |column: &str| -> Option<&str> {
            let pos = CSV_COLUMNS.iter().position(|c| *c == column)?;
            self.index[pos]
                .and_then(|i| cells.get(i).copied())
                .filter(|s| !s.is_empty())
        };
        let mut kol = KolPatch::new(self.handle(&cell)?);
        if let Some(c) = cell("display_name") {
            kol.display_name =
                Some(PlainText::for_field("display_name", c).map_err(invalid("display_name"))?);
        }
        if let Some(c) = cell("category") {
            let tags = parse_list(c).map_err(|e| invalid("category")(e))?;
            kol.categories = Some(Categories::parse(tags).map_err(invalid("category"))?);
        }
        if let Some(c) = cell("followers") {
            kol.followers = Some(c.parse::<Followers>().map_err(invalid("followers"))?);
        }
        if let Some(c) = cell("country") {
            kol.country = Some(CountryCode::new(c).map_err(invalid("country"))?);
        }
        if let Some(c) = cell("contact") {
            kol.contact = Some(PlainText::for_field("contact", c).map_err(invalid("contact"))?);
        }
        if let Some(c) = cell("sample_links") {
            let links = parse_list(c).map_err(|e| invalid("sample_links")(e))?;
            kol.sample_links = Some(
                links
                    .iter()
                    .map(|l| Link::new(l))
                    .collect::<kol_core::Result<_>>()
                    .map_err(invalid("sample_links"))?,
            );
        }
        if let Some(c) = cell("extra") {
            let json: serde_json::Value =
                serde_json::from_str(c).map_err(|e| invalid("extra")(format!("not JSON ({e})")))?;
            kol.extra = Some(Extra::from_json(json).map_err(invalid("extra"))?);
        }
        if let Some(c) = cell("audience_th_pct") {
            let pct: i64 = c.trim_end_matches('%').trim().parse().map_err(|_| {
                invalid("audience_th_pct")(format!("{} is not a whole number", echo(c)))
            })?;
            kol.audience_th_pct =
                Some(AudienceShare::new(pct).map_err(invalid("audience_th_pct"))?);
        }
        Ok(kol)
    }

    fn handle<'c>(
        &self,
        cell: &impl Fn(&str) -> Option<&'c str>,
    ) -> std::result::Result<Handle, SkipReason> {
        let platform = cell("platform")
            .map(|p| p.parse::<Platform>().map_err(invalid("platform")))
            .transpose()?;
        let from_url = |url: &str| Handle::from_profile_url(url).map_err(invalid("username"));
        let handle = match cell("username") {
            Some(u) if u.contains('/') => from_url(u)?,
            Some(u) => {
                let platform = platform.ok_or_else(|| invalid("platform")("missing"))?;
                Handle::new(platform, u).map_err(invalid("username"))?
            }
            None => {
                let contact = cell("contact").ok_or_else(|| {
                    invalid("username")("missing (and no contact URL to read it from)")
                })?;
                from_url(contact)?
            }
        };
        if let Some(p) = platform {
            if p != handle.platform() {
                return Err(invalid("platform")(format!(
                    "the row says {p} but its profile URL is on {}",
                    handle.platform()
                )));
            }
        }
        Ok(handle)
    }
}

/// Turns an error about `column` into a skip reason, with the cells it quotes cut short.
fn invalid<E: ToString>(column: &'static str) -> impl Fn(E) -> SkipReason {
    move |e| {
        let message = e.to_string();
        // kol-core's messages may start with the field's name already.
        let message = message
            .strip_prefix(column)
            .and_then(|m| m.strip_prefix(": "))
            .unwrap_or(&message);
        SkipReason::InvalidCell {
            column,
            reason: bound_echoes(message),
        }
    }
}

/// `cell` quoted, cut to [`ECHO_CHARS`] characters with `…` when longer.
fn echo(cell: &str) -> String {
    match cell.char_indices().nth(ECHO_CHARS) {
        None => format!("{cell:?}"),
        Some((cut, _)) => format!("{:?}…", &cell[..cut]),
    }
}

/// `message` with every quoted string in it (validation errors quote the cell they refuse, as
/// Rust's `{:?}` does) cut to [`ECHO_CHARS`] characters, an escape sequence counting as one, and
/// the whole cut to [`MAX_REASON_CHARS`] characters.
fn bound_echoes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_REASON_CHARS + 8));
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' {
            continue;
        }
        // Inside a quoted string: copy up to ECHO_CHARS units, skip the rest to the closing quote.
        let mut units = 0;
        let mut cut = false;
        while let Some(c) = chars.next() {
            if c == '"' {
                if cut {
                    out.push('…');
                }
                out.push('"');
                break;
            }
            let mut unit = String::from(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    unit.push(next);
                    if next == 'u' && chars.peek() == Some(&'{') {
                        for c in chars.by_ref() {
                            unit.push(c);
                            if c == '}' {
                                break;
                            }
                        }
                    }
                }
            }
            if units < ECHO_CHARS {
                out.push_str(&unit);
                units += 1;
            } else {
                cut = true;
            }
        }
    }
    match out.char_indices().nth(MAX_REASON_CHARS) {
        None => out,
        Some((i, _)) => {
            out.truncate(i);
            out.push('…');
            out
        }
    }
}

/// Reads a list cell: a PostgreSQL array literal, a JSON array of strings, or a comma list.
fn parse_list(cell: &str) -> std::result::Result<Vec<String>, String> {
    let cell = cell.trim();
    if cell.starts_with('[') {
        return serde_json::from_str::<Vec<String>>(cell)
            .map_err(|e| format!("not a JSON array of strings ({e})"));
    }
    if let Some(inner) = cell.strip_prefix('{') {
        let inner = inner
            .strip_suffix('}')
            .ok_or("an array literal must end with '}'")?;
        return parse_pg_array(inner);
    }
    Ok(cell
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The elements of a one-dimensional PostgreSQL array literal (without its braces).
fn parse_pg_array(inner: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut item = String::new();
        if first == '"' {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => item.push(
                        chars
                            .next()
                            .ok_or("unfinished escape in an array literal")?,
                    ),
                    Some('"') => break,
                    Some(c) => item.push(c),
                    None => return Err("unterminated quote in an array literal".to_owned()),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if matches!(c, '{' | '}' | '"') {
                    return Err(format!("unexpected {c:?} in an array literal"));
                }
                item.push(c);
                chars.next();
            }
            item = item.trim().to_owned();
            if item.eq_ignore_ascii_case("null") {
                return Err("NULL in an array literal".to_owned());
            }
        }
        out.push(item);
        match chars.next() {
            Some(',') | None => {}
            Some(c) => return Err(format!("unexpected {c:?} in an array literal")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_cells_in_three_forms() {
        let want = vec!["beauty".to_owned(), "skin care".to_owned()];
        assert_eq!(parse_list("{beauty,\"skin care\"}").unwrap(), want);
        assert_eq!(parse_list("{ beauty , skin care }").unwrap(), want);
        assert_eq!(parse_list("[\"beauty\", \"skin care\"]").unwrap(), want);
        assert_eq!(parse_list("beauty, skin care").unwrap(), want);
        assert_eq!(parse_list("{}").unwrap(), Vec::<String>::new());
        assert_eq!(parse_list(r#"{"a\"b"}"#).unwrap(), vec!["a\"b".to_owned()]);
        assert!(parse_list("{a,b").is_err());
        assert!(parse_list("{\"a}").is_err());
        assert!(parse_list("[1, 2]").is_err());
        assert!(parse_list("{a,NULL}").is_err());
    }

    #[test]
    fn echoed_cells_are_cut_on_a_character_boundary() {
        assert_eq!(echo("short"), "\"short\"");
        let thai = "ก".repeat(100);
        let cut = echo(&thai);
        assert_eq!(cut, format!("\"{}\"…", "ก".repeat(ECHO_CHARS)));
        let exactly = "x".repeat(ECHO_CHARS);
        assert_eq!(echo(&exactly), format!("\"{exactly}\""));
    }

    #[test]
    fn quoted_cells_in_messages_are_cut() {
        let long = "ก".repeat(1_000);
        let message = format!("invalid username {long:?}: it is longer than 64 characters");
        assert_eq!(
            bound_echoes(&message),
            format!(
                "invalid username \"{}…\": it is longer than 64 characters",
                "ก".repeat(ECHO_CHARS)
            )
        );
        // Escapes count as one character and are never split.
        let escaped = format!("{:?}", "\u{202f}".repeat(50));
        let bounded = bound_echoes(&format!("bad {escaped} value"));
        assert_eq!(
            bounded,
            format!("bad \"{}…\" value", "\\u{202f}".repeat(ECHO_CHARS))
        );
        let quotes = format!("{:?}", "\"".repeat(50));
        assert_eq!(
            bound_echoes(&quotes),
            format!("\"{}…\"", "\\\"".repeat(ECHO_CHARS))
        );
        // Short messages are untouched; an unclosed quote is cut too; the total is bounded.
        assert_eq!(bound_echoes("a \"b\" c"), "a \"b\" c");
        assert_eq!(
            bound_echoes(&format!("open \"{long}")),
            format!("open \"{}", "ก".repeat(ECHO_CHARS))
        );
        let words = "word ".repeat(500);
        assert_eq!(bound_echoes(&words).chars().count(), MAX_REASON_CHARS + 1);
    }

    #[test]
    fn options_are_checked() {
        assert!(CsvImportOptions::default().check().is_ok());
        let bad = [
            (0, 1),
            (CsvImportOptions::MAX_RECORD_BYTES + 1, 1),
            (100, 0),
            (100, 101),
        ];
        for (record, field) in bad {
            let options = CsvImportOptions {
                max_record_bytes: record,
                max_field_bytes: field,
                ..CsvImportOptions::default()
            };
            assert!(
                matches!(options.check(), Err(DbError::InvalidArgument { .. })),
                "{options:?}"
            );
        }
    }

    #[test]
    fn a_patch_replaces_only_what_it_gives() {
        let handle = Handle::new(Platform::Tiktok, "porji").unwrap();
        let mut stored = NewKol::new(handle.clone());
        stored.followers = Some(Followers::new(10).unwrap());
        stored.contact = Some(PlainText::new("line:porji").unwrap());
        stored.categories = Categories::parse(["beauty"]).unwrap();
        let mut patch = KolPatch::new(handle);
        patch.followers = Some(Followers::new(20).unwrap());
        patch.categories = Some(Categories::new());
        let merged = patch.apply_to(&stored);
        assert_eq!(merged.contact, stored.contact);
        assert_eq!(merged.followers, patch.followers);
        assert!(merged.categories.is_empty());
        let fields: Vec<KolField> = changes(&stored, &merged)
            .iter()
            .map(FieldChange::field)
            .collect();
        assert_eq!(fields, [KolField::Categories, KolField::Followers]);
        assert_eq!(
            changes(&stored, &merged)[1].to_string(),
            "followers: 10 -> 20"
        );
        assert_eq!(
            changes(&stored, &merged)[0].to_string(),
            "category: [\"beauty\"] -> []"
        );
        assert!(changes(&merged, &merged).is_empty());
    }
}
