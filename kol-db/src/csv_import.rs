//! CSV import of creators in the column layout of the platform's earlier version (the
//! repository's docs/SCHEMA.md records that version's rules):
//! `platform, username, display_name, category, followers, country, contact, sample_links, extra`.
//!
//! - The header names the columns (any order, case-insensitive); `platform` and `username` are
//!   required, the others optional; an unknown column is an error (a typo would silently drop
//!   data otherwise).
//! - Array cells (`category`, `sample_links`) may be a PostgreSQL literal `{a,"b c"}`, a JSON array
//!   `["a", "b c"]`, or a comma-separated list `a, b c`.
//! - `extra` is a JSON object (empty means `{}`).
//! - When `username` is empty, or is itself a profile URL, the handle is read from the URL
//!   (`https://www.tiktok.com/@Porji?lang=th` gives `tiktok` / `porji`); a `platform` cell that
//!   disagrees with the URL skips the row.
//!
//! Rows are upserted by `(platform, username)` in one transaction. A row that fails validation is
//! skipped and reported with its line number and the reason (never silently, as the earlier
//! version did); a database error aborts the whole import and keeps nothing.

use std::collections::HashSet;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use kol_core::{
    AudienceShare, Categories, CoreError, CountryCode, Extra, Followers, Handle, Link, NewKol,
    PlainText, Platform,
};

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::import::upsert_kols;
use crate::kols::UpsertOutcome;

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

/// A row the import skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    /// Line of the row in the input (1 is the header).
    pub line: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// What a CSV import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvImportReport {
    /// New creators.
    pub inserted: u64,
    /// Existing creators updated (including a creator listed twice in the file).
    pub updated: u64,
    /// Rows skipped, in input order, each with its line number and reason.
    pub skipped: Vec<SkippedRow>,
}

/// Rows upserted per statement.
const BATCH: usize = 1_000;

impl Database {
    /// Imports creators from CSV (see the [module docs](crate::csv_import)), calling `progress`
    /// with the number of data rows read so far after every batch.
    ///
    /// Reading is synchronous: pass an in-memory buffer or a file (the import is CPU- and
    /// database-bound, not I/O-bound).
    ///
    /// # Errors
    /// [`DbError::Csv`] for unreadable input, a missing required or an unknown column;
    /// database and connection errors (then nothing is kept).
    pub async fn import_csv<R>(
        &self,
        input: R,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<CsvImportReport>
    where
        R: std::io::Read + Send,
    {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(input);
        let columns =
            Columns::from_header(reader.headers().map_err(|e| DbError::Csv(e.to_string()))?)?;
        let mut conn = self.dedicated_conn().await?;
        let conn: &mut AsyncPgConnection = &mut conn;
        conn.transaction::<_, DbError, _>(async |conn| {
            let mut report = CsvImportReport::default();
            let mut batch: Vec<NewKol> = Vec::with_capacity(BATCH);
            let mut handles: HashSet<Handle> = HashSet::new();
            let mut rows = 0u64;
            for record in reader.records() {
                rows += 1;
                let record = match record {
                    Ok(r) => r,
                    Err(e) => {
                        let line = e.position().map_or(rows + 1, |p| p.line());
                        if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                            return Err(DbError::Csv(e.to_string()));
                        }
                        report.skipped.push(SkippedRow {
                            line,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                };
                let line = record.position().map_or(rows + 1, |p| p.line());
                match columns.parse(&record) {
                    Ok(kol) => {
                        // A creator seen twice: flush first, so the second is an update, as
                        // two upserts in a row would be.
                        if handles.contains(&kol.handle) || batch.len() == BATCH {
                            flush(conn, &mut batch, &mut report).await?;
                            handles.clear();
                            progress(rows);
                        }
                        handles.insert(kol.handle.clone());
                        batch.push(kol);
                    }
                    Err(reason) => report.skipped.push(SkippedRow { line, reason }),
                }
            }
            flush(conn, &mut batch, &mut report).await?;
            progress(rows);
            Ok(report)
        })
        .await
    }
}

async fn flush(
    conn: &mut AsyncPgConnection,
    batch: &mut Vec<NewKol>,
    report: &mut CsvImportReport,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let refs: Vec<&NewKol> = batch.iter().collect();
    for (_, _, outcome) in upsert_kols(conn, &refs).await? {
        match outcome {
            UpsertOutcome::Inserted => report.inserted += 1,
            UpsertOutcome::Updated => report.updated += 1,
        }
    }
    batch.clear();
    Ok(())
}

/// Positions of the known columns in the header.
struct Columns {
    index: [Option<usize>; CSV_COLUMNS.len()],
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self> {
        let mut index = [None; CSV_COLUMNS.len()];
        for (i, name) in header.iter().enumerate() {
            let name = name
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase();
            let known = CSV_COLUMNS.iter().position(|c| *c == name).ok_or_else(|| {
                DbError::Csv(format!(
                    "unknown column {name:?} in the header (known: {})",
                    CSV_COLUMNS.join(", ")
                ))
            })?;
            if index[known].replace(i).is_some() {
                return Err(DbError::Csv(format!(
                    "column {name:?} appears twice in the header"
                )));
            }
        }
        for required in ["platform", "username"] {
            if index[CSV_COLUMNS.iter().position(|c| *c == required).unwrap_or(0)].is_none() {
                return Err(DbError::Csv(format!(
                    "the header has no {required:?} column"
                )));
            }
        }
        Ok(Self { index })
    }

    fn cell<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        let pos = CSV_COLUMNS.iter().position(|c| *c == column)?;
        self.index[pos]
            .and_then(|i| record.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// One row as a creator, or the reason it cannot be one.
    fn parse(&self, record: &csv::StringRecord) -> std::result::Result<NewKol, String> {
        fn with(column: &'static str) -> impl Fn(CoreError) -> String {
            move |e| format!("{column}: {e}")
        }
        let handle = self.handle(record)?;
        let mut kol = NewKol::new(handle);
        kol.display_name = PlainText::optional("display_name", self.cell(record, "display_name"))
            .map_err(with("display_name"))?;
        if let Some(cell) = self.cell(record, "category") {
            kol.categories =
                Categories::parse(parse_list(cell).map_err(|e| format!("category: {e}"))?)
                    .map_err(with("category"))?;
        }
        if let Some(cell) = self.cell(record, "followers") {
            kol.followers = Some(cell.parse::<Followers>().map_err(with("followers"))?);
        }
        if let Some(cell) = self.cell(record, "country") {
            kol.country = Some(CountryCode::new(cell).map_err(with("country"))?);
        }
        kol.contact = PlainText::optional("contact", self.cell(record, "contact"))
            .map_err(with("contact"))?;
        if let Some(cell) = self.cell(record, "sample_links") {
            kol.sample_links = parse_list(cell)
                .map_err(|e| format!("sample_links: {e}"))?
                .iter()
                .map(|l| Link::new(l))
                .collect::<kol_core::Result<_>>()
                .map_err(with("sample_links"))?;
        }
        if let Some(cell) = self.cell(record, "extra") {
            let json: serde_json::Value =
                serde_json::from_str(cell).map_err(|e| format!("extra: not JSON ({e})"))?;
            kol.extra = Extra::from_json(json).map_err(with("extra"))?;
        }
        if let Some(cell) = self.cell(record, "audience_th_pct") {
            let pct: i64 = cell
                .trim_end_matches('%')
                .trim()
                .parse()
                .map_err(|_| format!("audience_th_pct: {cell:?} is not a whole number"))?;
            kol.audience_th_pct = Some(AudienceShare::new(pct).map_err(with("audience_th_pct"))?);
        }
        Ok(kol)
    }

    fn handle(&self, record: &csv::StringRecord) -> std::result::Result<Handle, String> {
        let platform = self
            .cell(record, "platform")
            .map(|p| p.parse::<Platform>().map_err(|e| format!("platform: {e}")))
            .transpose()?;
        let username = self.cell(record, "username");
        let from_url =
            |url: &str| Handle::from_profile_url(url).map_err(|e| format!("username: {e}"));
        let handle = match username {
            Some(u) if u.contains('/') => from_url(u)?,
            Some(u) => {
                let platform = platform.ok_or("platform: missing")?;
                Handle::new(platform, u).map_err(|e| format!("username: {e}"))?
            }
            None => {
                let contact = self
                    .cell(record, "contact")
                    .ok_or("username: missing (and no contact URL to read it from)")?;
                from_url(contact)?
            }
        };
        if let Some(p) = platform {
            if p != handle.platform() {
                return Err(format!(
                    "platform: the row says {p} but its profile URL is on {}",
                    handle.platform()
                ));
            }
        }
        Ok(handle)
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
}
