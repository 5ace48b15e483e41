//! Request extractors of the reference service that refuse bad input with problem documents:
//! strict JSON bodies (unknown fields refused anywhere in the document, the failing field
//! named), query strings, id path segments, and the size-limited CSV stream of an import.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tokio::io::AsyncRead;

use super::error::{ApiError, ProblemKind};

/// A JSON body, read in full (within the route's body limit), then deserialized with every
/// unknown field refused and the failing field named:
///
/// - not `application/json`: 415;
/// - over the body limit: 413;
/// - malformed JSON (syntax, truncated, trailing characters): 400;
/// - a wrong type, a missing or unknown field, a value kol-core refuses: 422 with `field` set to
///   its JSON path (`brief.vector`, `terms.price`...).
#[derive(Debug, Clone, Copy, Default)]
pub struct StrictJson<T>(pub T);

impl<S, T> FromRequest<S> for StrictJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let essence = v.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case("application/json")
                    || (essence.starts_with("application/") && essence.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                ProblemKind::UnsupportedMediaType,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let kind = if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ProblemKind::TooLarge
            } else {
                ProblemKind::BadRequest
            };
            ApiError::new(kind, rejection.body_text())
        })?;
        parse_json(&bytes).map(Self)
    }
}

/// Deserializes a JSON document as [`StrictJson`] does.
///
/// # Errors
/// 400 for malformed JSON, 422 naming the field for a document of the wrong shape (unknown
/// fields included) or a refused value.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first (a malformed document is 400 whatever its shape), then the shape (422).
    let document: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(ProblemKind::BadRequest, format!("malformed JSON: {e}")).with_source(e)
    })?;
    let mut unknown: Vec<String> = Vec::new();
    let value = {
        let mut on_ignored = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
        let ignoring = serde_ignored::Deserializer::new(document, &mut on_ignored);
        serde_path_to_error::deserialize::<_, T>(ignoring)
    };
    let value = value.map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let e = ApiError::new(ProblemKind::InvalidInput, inner.to_string());
        let e = if path == "." { e } else { e.with_field(path) };
        e.with_source(inner)
    })?;
    if let Some(field) = unknown.into_iter().next() {
        return Err(ApiError::invalid(
            field.clone(),
            format!("unknown field `{field}`"),
        ));
    }
    Ok(value)
}

/// A query string deserialized into `T` (whose unknown parameters are refused by
/// `deny_unknown_fields`); a bad one is 422.
#[derive(Debug, Clone, Copy, Default)]
pub struct StrictQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for StrictQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Self(q))
            .map_err(|rejection| ApiError::invalid("query", rejection.body_text()))
    }
}

/// The numeric id of a path such as `/kols/{id}`; anything else is 422 naming `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::invalid("id", rejection.body_text()))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Self)
            .ok_or_else(|| ApiError::invalid("id", format!("not an id: {raw:?}")))
    }
}

/// The error a streamed body reports once it passes its limit (kept as the source of the I/O
/// error, so the handler answers 413).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the body is over the limit of {limit} bytes")]
pub struct BodyTooLarge {
    /// The limit.
    pub limit: usize,
}

/// The request body as an [`AsyncRead`] that fails with [`BodyTooLarge`] past `limit` bytes
/// (read as it arrives, never buffered whole).
pub fn limited_reader(body: Body, limit: usize) -> impl AsyncRead + Unpin + Send {
    let mut seen = 0usize;
    let stream = body.into_data_stream().map(move |chunk| match chunk {
        Ok(bytes) => {
            seen = seen.saturating_add(bytes.len());
            if seen > limit {
                Err(std::io::Error::other(BodyTooLarge { limit }))
            } else {
                Ok(bytes)
            }
        }
        Err(e) => Err(std::io::Error::other(e)),
    });
    tokio_util::io::StreamReader::new(stream)
}
