//! The JSON request and plan formats of the `optimize` example: reading a request with errors
//! that name the offending field (`candidates[3].items[1].price: must be >= 0, got -5`),
//! solving it, and writing the plan.
//!
//! Request (every field but `budget` and `candidates` optional):
//!
//! ```json
//! {"budget": 100000, "target_country_weighting": true, "min_reach": null,
//!  "candidates": [{"kol_id": 1, "audience_th_pct": 80, "relevance": 1.0,
//!                  "items": [{"item": "tiktok_video", "price": 5000, "est_reach": 20000}]}],
//!  "pinned": [{"kol_id": 1, "item": "tiktok_video"}], "excluded": [7]}
//! ```
//!
//! `audience_th_pct` is required while `target_country_weighting` is on (the default). Unknown
//! fields are errors, so a misspelt `min_reach` is never silently ignored.

use std::fmt;

use kol_core::{AudienceShare, DeliverableItem, KolId, PriceThb, Reach};
use kol_optimizer::{
    Budget, Candidate, EffectiveReach, Method, Objective, Offer, OptimizerError, Pin, Plan,
    PlanRequest, Problem, Relevance, Weighting,
};
use serde_json::{Map, Value};

/// Why a request cannot be planned. `Display` is one line naming the offending field.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The input is not JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A field is missing, of the wrong type, or out of range.
    #[error("{path}: {message}")]
    Field {
        /// Where, e.g. `candidates[3].items[1].price`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The request is well-formed but invalid as a whole (duplicates, pins...).
    #[error(transparent)]
    Invalid(#[from] OptimizerError),
}

fn field(path: &str, message: impl fmt::Display) -> RequestError {
    RequestError::Field {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// A short description of a JSON value, for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn object<'a>(
    value: &'a Value,
    path: &str,
    allowed: &[&str],
) -> Result<&'a Map<String, Value>, RequestError> {
    let map = value
        .as_object()
        .ok_or_else(|| field(path, format!("expected an object, got {}", describe(value))))?;
    if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        let at = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        return Err(field(
            &at,
            format!("unknown field (expected one of: {})", allowed.join(", ")),
        ));
    }
    Ok(map)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The value of `key`, `None` when absent or null.
fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn required<'a>(
    map: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a Value, RequestError> {
    get(map, key).ok_or_else(|| field(&join(path, key), "is required"))
}

/// A whole number in `min..=max` (integral floats such as `5000.0` are accepted).
fn integer(value: &Value, path: &str, min: i64, max: i64) -> Result<i64, RequestError> {
    let n = match value {
        Value::Number(n) => n,
        other => {
            return Err(field(
                path,
                format!("expected a number, got {}", describe(other)),
            ));
        }
    };
    let v = if let Some(v) = n.as_i64() {
        v
    } else if n.as_u64().is_some() {
        return Err(field(path, format!("must be <= {max}, got {n}")));
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f.fract() != 0.0 || !f.is_finite() {
            return Err(field(path, format!("must be a whole number, got {n}")));
        }
        if f < min as f64 {
            return Err(field(path, format!("must be >= {min}, got {n}")));
        }
        if f > max as f64 {
            return Err(field(path, format!("must be <= {max}, got {n}")));
        }
        f as i64
    };
    if v < min {
        return Err(field(path, format!("must be >= {min}, got {v}")));
    }
    if v > max {
        return Err(field(path, format!("must be <= {max}, got {v}")));
    }
    Ok(v)
}

fn number(value: &Value, path: &str) -> Result<f64, RequestError> {
    value
        .as_f64()
        .ok_or_else(|| field(path, format!("expected a number, got {}", describe(value))))
}

fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, RequestError> {
    value
        .as_array()
        .ok_or_else(|| field(path, format!("expected an array, got {}", describe(value))))
}

fn item_name(value: &Value, path: &str) -> Result<DeliverableItem, RequestError> {
    let s = value
        .as_str()
        .ok_or_else(|| field(path, format!("expected a string, got {}", describe(value))))?;
    DeliverableItem::new(s).map_err(|e| field(path, e))
}

const MAX_COUNT: i64 = i32::MAX as i64;

/// Reads a request from JSON text.
///
/// # Errors
/// [`RequestError`] naming the first offending field, in document order.
pub fn parse_request(text: &str) -> Result<PlanRequest, RequestError> {
    let root: Value = serde_json::from_str(text)?;
    let top = object(
        &root,
        "",
        &[
            "budget",
            "target_country_weighting",
            "min_reach",
            "candidates",
            "pinned",
            "excluded",
        ],
    )
    .map_err(|e| match e {
        RequestError::Field { path, message } if path.is_empty() => field("request", message),
        e => e,
    })?;
    let budget = integer(required(top, "", "budget")?, "budget", 0, i64::MAX)?;
    let weighting = match get(top, "target_country_weighting") {
        None => Weighting::TargetCountry,
        Some(Value::Bool(true)) => Weighting::TargetCountry,
        Some(Value::Bool(false)) => Weighting::Off,
        Some(other) => {
            return Err(field(
                "target_country_weighting",
                format!("expected true or false, got {}", describe(other)),
            ));
        }
    };
    let objective = match get(top, "min_reach") {
        None => Objective::MaxReach,
        Some(v) => {
            let people = number(v, "min_reach")?;
            if people < 0.0 {
                return Err(field("min_reach", format!("must be >= 0, got {v}")));
            }
            let min_reach =
                EffectiveReach::from_people(people).map_err(|e| field("min_reach", plain(&e)))?;
            Objective::MinCost { min_reach }
        }
    };

    let mut candidates = Vec::new();
    for (i, c) in array(required(top, "", "candidates")?, "candidates")?
        .iter()
        .enumerate()
    {
        let path = format!("candidates[{i}]");
        let map = object(
            c,
            &path,
            &["kol_id", "audience_th_pct", "relevance", "items"],
        )?;
        let kol_id = KolId(integer(
            required(map, &path, "kol_id")?,
            &join(&path, "kol_id"),
            i64::MIN,
            i64::MAX,
        )?);
        let pct_path = join(&path, "audience_th_pct");
        let share = match (get(map, "audience_th_pct"), weighting) {
            (Some(v), _) => AudienceShare::new(integer(v, &pct_path, 0, 100)?)
                .map_err(|e| field(&pct_path, e))?,
            (None, Weighting::Off) => AudienceShare::ALL,
            (None, Weighting::TargetCountry) => {
                return Err(field(
                    &pct_path,
                    "is required while target_country_weighting is on",
                ));
            }
        };
        let relevance = match get(map, "relevance") {
            None => Relevance::ONE,
            Some(v) => {
                let rel_path = join(&path, "relevance");
                let w = number(v, &rel_path)?;
                Relevance::new(w).map_err(|e| field(&rel_path, plain(&e)))?
            }
        };
        let mut offers = Vec::new();
        let items_path = join(&path, "items");
        for (j, o) in array(required(map, &path, "items")?, &items_path)?
            .iter()
            .enumerate()
        {
            let ipath = format!("{items_path}[{j}]");
            let m = object(o, &ipath, &["item", "price", "est_reach"])?;
            let item = item_name(required(m, &ipath, "item")?, &join(&ipath, "item"))?;
            let price = integer(
                required(m, &ipath, "price")?,
                &join(&ipath, "price"),
                0,
                MAX_COUNT,
            )?;
            let reach = integer(
                required(m, &ipath, "est_reach")?,
                &join(&ipath, "est_reach"),
                0,
                MAX_COUNT,
            )?;
            offers.push(Offer::new(
                item,
                PriceThb::new(price).map_err(|e| field(&join(&ipath, "price"), e))?,
                Reach::new(reach).map_err(|e| field(&join(&ipath, "est_reach"), e))?,
            ));
        }
        candidates.push(Candidate::new(kol_id, share, offers).with_relevance(relevance));
    }

    let mut pinned = Vec::new();
    if let Some(v) = get(top, "pinned") {
        for (i, p) in array(v, "pinned")?.iter().enumerate() {
            let path = format!("pinned[{i}]");
            let m = object(p, &path, &["kol_id", "item"])?;
            let kol = integer(
                required(m, &path, "kol_id")?,
                &join(&path, "kol_id"),
                i64::MIN,
                i64::MAX,
            )?;
            let item = item_name(required(m, &path, "item")?, &join(&path, "item"))?;
            pinned.push(Pin::new(KolId(kol), item));
        }
    }
    let mut excluded = Vec::new();
    if let Some(v) = get(top, "excluded") {
        for (i, k) in array(v, "excluded")?.iter().enumerate() {
            excluded.push(KolId(integer(
                k,
                &format!("excluded[{i}]"),
                i64::MIN,
                i64::MAX,
            )?));
        }
    }

    let mut request = PlanRequest::new(Budget::new(budget.unsigned_abs()), candidates);
    request.pinned = pinned;
    request.excluded = excluded;
    request.weighting = weighting;
    request.objective = objective;
    Ok(request)
}

/// An optimizer error's message without its leading field name (the caller adds the path).
fn plain(e: &OptimizerError) -> String {
    let text = e.to_string();
    match text.split_once(": ") {
        Some((_, rest)) => rest.to_owned(),
        None => text,
    }
}

/// Reads, validates and solves a request; returns the plan.
///
/// # Errors
/// [`RequestError`] for invalid input, or [`OptimizerError::WorkLimit`] (inside
/// [`RequestError::Invalid`]) when the exact search is asked to fail at its limit.
pub fn solve(text: &str, method: Method) -> Result<Plan, RequestError> {
    let problem = Problem::new(parse_request(text)?)?;
    Ok(problem.solve(method)?)
}

/// The plan as pretty-printed JSON, with a final newline. The same plan always gives the same
/// bytes.
pub fn render(plan: &Plan) -> String {
    let mut out = serde_json::to_string_pretty(plan).unwrap_or_default();
    out.push('\n');
    out
}
