//! Creator endpoints: `POST /kols/import` (a CSV body streamed into kol-db's CSV import),
//! `GET /kols` (filters and keyset pages) and `GET /kols/{id}`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use kol_core::{
    AudienceShare, Categories, CountryCode, Followers, Kol, KolFilter, KolId, Platform, PriceThb,
};
use kol_db::{CsvImportOptions, CsvImportReport, KolQuery, Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ProblemKind};
use super::extract::{Id, StrictQuery, limited_reader};

/// Query of `POST /kols/import`.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Run the import, report it, and roll it back.
    #[serde(default)]
    pub dry_run: bool,
}

/// A row the import skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SkippedRowDoc {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// A creator the import changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdatedKolDoc {
    /// Line number in the file.
    pub line: u64,
    /// The creator's id (absent when the file created it earlier).
    pub id: Option<i64>,
    /// `platform:username`.
    pub handle: String,
    /// Each change, `field: old -> new`.
    pub changes: Vec<String>,
}

/// What a CSV import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportReportDoc {
    /// Whether nothing was kept.
    pub dry_run: bool,
    /// New creators.
    pub inserted: u64,
    /// Rows that changed an existing creator.
    pub updated: Vec<UpdatedKolDoc>,
    /// Rows that matched an existing creator and changed nothing.
    pub unchanged: u64,
    /// Rows skipped, with their reason.
    pub skipped: Vec<SkippedRowDoc>,
}

impl From<CsvImportReport> for ImportReportDoc {
    fn from(r: CsvImportReport) -> Self {
        Self {
            dry_run: r.dry_run,
            inserted: r.inserted,
            updated: r
                .updated
                .into_iter()
                .map(|u| UpdatedKolDoc {
                    line: u.line,
                    id: u.id.map(KolId::get),
                    handle: u.handle.to_string(),
                    changes: u.changes.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            unchanged: r.unchanged,
            skipped: r
                .skipped
                .into_iter()
                .map(|s| SkippedRowDoc {
                    line: s.line,
                    reason: s.reason.to_string(),
                })
                .collect(),
        }
    }
}

/// Imports creators from a CSV body (`text/csv`), streamed into kol-db's CSV import: one
/// transaction, bad rows skipped and reported, nothing kept on error.
#[utoipa::path(
    post,
    path = "/kols/import",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "columns platform, username, display_name, category, followers, country, contact, sample_links, extra, audience_th_pct"),
    responses(
        (status = 200, description = "The import report", body = ImportReportDoc),
        (status = 413, description = "Body over the limit", body = super::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad header", body = super::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "kols"
)]
pub async fn import(
    State(state): State<AppState>,
    StrictQuery(params): StrictQuery<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportReportDoc>, ApiError> {
    let limit = state.limits.csv_body;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::new(
            ProblemKind::TooLarge,
            format!("the CSV body is over the limit of {limit} bytes"),
        ));
    }
    let options = CsvImportOptions {
        dry_run: params.dry_run,
        ..CsvImportOptions::default()
    };
    let report = state
        .db
        .import_csv(limited_reader(body, limit), &options, |_| {})
        .await?;
    Ok(Json(report.into()))
}

/// Query of `GET /kols`: filters (lists are comma-separated) and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Platforms, comma-separated (`tiktok,instagram`).
    pub platforms: Option<String>,
    /// Countries (ISO 3166-1 alpha-2), comma-separated.
    pub countries: Option<String>,
    /// Categories, comma-separated: at least one must match.
    pub categories: Option<String>,
    /// At least this many followers.
    pub min_followers: Option<i64>,
    /// At most this many followers.
    pub max_followers: Option<i64>,
    /// At least this share (0-100) of the audience in Thailand.
    pub min_audience_th_pct: Option<i64>,
    /// Has a rate-card item priced at most this (THB).
    pub max_item_price: Option<i64>,
    /// Substring of the display name or username (case- and accent-insensitive).
    pub name: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<u32>,
    /// The `next_after` of the previous page.
    pub after: Option<i64>,
}

/// The largest page `GET /kols` serves.
pub const MAX_PAGE: u32 = 1_000;

/// A page of creators.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KolPageDoc {
    /// The creators, in id order.
    #[schema(value_type = Vec<Object>)]
    pub kols: Vec<Kol>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

fn split_list<T>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, kol_core::CoreError>,
) -> Result<Vec<T>, ApiError> {
    raw.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| parse(p).map_err(|e| ApiError::from(e).in_field(field)))
            .collect()
    })
    .unwrap_or(Ok(Vec::new()))
}

/// kol-core values from the query, each error naming its parameter.
pub fn filter_from_params(p: &ListParams) -> Result<KolFilter, ApiError> {
    let named = |field: &'static str| move |e| ApiError::from(e).in_field(field);
    let categories: Vec<String> =
        split_list("categories", p.categories.as_deref(), |s| Ok(s.to_owned()))?;
    Ok(KolFilter {
        platforms: split_list("platforms", p.platforms.as_deref(), str::parse::<Platform>)?,
        countries: split_list(
            "countries",
            p.countries.as_deref(),
            str::parse::<CountryCode>,
        )?,
        categories_any: Categories::parse(categories).map_err(named("categories"))?,
        min_followers: p
            .min_followers
            .map(Followers::new)
            .transpose()
            .map_err(named("min_followers"))?,
        max_followers: p
            .max_followers
            .map(Followers::new)
            .transpose()
            .map_err(named("max_followers"))?,
        min_audience_th_pct: p
            .min_audience_th_pct
            .map(AudienceShare::new)
            .transpose()
            .map_err(named("min_audience_th_pct"))?,
        max_item_price: p
            .max_item_price
            .map(PriceThb::new)
            .transpose()
            .map_err(named("max_item_price"))?,
        ..KolFilter::default()
    })
}

/// Lists creators matching the filters, in id order, one keyset page at a time.
#[utoipa::path(
    get,
    path = "/kols",
    params(ListParams),
    responses(
        (status = 200, description = "A page of creators", body = KolPageDoc),
        (status = 422, description = "A bad filter, naming it", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "kols"
)]
pub async fn list(
    State(state): State<AppState>,
    StrictQuery(params): StrictQuery<ListParams>,
) -> Result<Json<KolPageDoc>, ApiError> {
    let filter = filter_from_params(&params)?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be 1 to {MAX_PAGE}, got {limit}"),
        ));
    }
    let query = KolQuery {
        filter,
        name_contains: params.name.clone(),
    };
    let page = Page {
        limit,
        after: params.after.map(KolId),
    };
    let found = state.db.list_kols(&query, page).await?;
    Ok(Json(KolPageDoc {
        next_after: found.next.and_then(|p| p.after).map(KolId::get),
        kols: found.kols,
    }))
}

/// One creator.
#[utoipa::path(
    get,
    path = "/kols/{id}",
    params(("id" = i64, Path, description = "The creator's id")),
    responses(
        (status = 200, description = "The creator", body = Object),
        (status = 404, description = "Unknown id", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "kols"
)]
pub async fn get_one(State(state): State<AppState>, Id(id): Id) -> Result<Json<Kol>, ApiError> {
    Ok(Json(state.db.kol(KolId(id)).await?))
}
