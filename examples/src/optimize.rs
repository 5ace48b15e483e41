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
//! Side constraints (all optional) go in `constraints`; the attributes they read go on the
//! candidates (`platform`, `tier`, `categories`) and items (`platform`; by default the platform
//! an item's name says, `tiktok_video` is TikTok, else the candidate's):
//!
//! ```json
//! {"constraints": {"quotas": [{"platform": "tiktok", "min_share_pct": 30},
//!                             {"tier": "micro", "min_count": 10}, {"tier": "mega", "max_count": 2}],
//!                  "max_creator_share_pct": 15, "min_creators": 5, "max_creators": 40,
//!                  "categories": ["beauty", "skincare"]},
//!  "candidates": [{"kol_id": 1, "platform": "tiktok", "tier": "micro", "categories": ["beauty"],
//!                  "items": [{"item": "bundle", "platform": "instagram", "price": 9000, "est_reach": 30000}]}]}
//! ```
//!
//! `audience_th_pct` is required while `target_country_weighting` is on (the default). Unknown
//! fields are errors, so a misspelt `min_reach` is never silently ignored.

use std::fmt;

use kol_core::{
    AudienceShare, Category, DeliverableItem, FollowerTier, KolId, Platform, PriceThb, Reach,
};
use kol_optimizer::{
    Budget, Candidate, EffectiveReach, Frontier, Group, Method, Objective, Offer, OptimizerError,
    Pin, Plan, PlanRequest, Problem, Quota, Relevance, SideConstraints, Weighting,
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
            "constraints",
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
            &[
                "kol_id",
                "audience_th_pct",
                "relevance",
                "items",
                "platform",
                "tier",
                "categories",
            ],
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
            let m = object(o, &ipath, &["item", "price", "est_reach", "platform"])?;
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
            let mut offer = Offer::new(
                item,
                PriceThb::new(price).map_err(|e| field(&join(&ipath, "price"), e))?,
                Reach::new(reach).map_err(|e| field(&join(&ipath, "est_reach"), e))?,
            );
            if let Some(v) = get(m, "platform") {
                offer = offer.with_platform(platform(v, &join(&ipath, "platform"))?);
            }
            offers.push(offer);
        }
        let mut candidate = Candidate::new(kol_id, share, offers).with_relevance(relevance);
        if let Some(v) = get(map, "platform") {
            candidate = candidate.with_platform(platform(v, &join(&path, "platform"))?);
        }
        if let Some(v) = get(map, "tier") {
            candidate = candidate.with_tier(tier(v, &join(&path, "tier"))?);
        }
        if let Some(v) = get(map, "categories") {
            candidate = candidate.with_categories(categories(v, &join(&path, "categories"))?);
        }
        candidates.push(candidate);
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
    if let Some(v) = get(top, "constraints") {
        request.constraints = constraints(v)?;
    }
    Ok(request)
}

fn string<'a>(value: &'a Value, path: &str) -> Result<&'a str, RequestError> {
    value
        .as_str()
        .ok_or_else(|| field(path, format!("expected a string, got {}", describe(value))))
}

fn platform(value: &Value, path: &str) -> Result<Platform, RequestError> {
    string(value, path)?
        .parse::<Platform>()
        .map_err(|e| field(path, e))
}

fn tier(value: &Value, path: &str) -> Result<FollowerTier, RequestError> {
    string(value, path)?
        .parse::<FollowerTier>()
        .map_err(|e| field(path, e))
}

fn categories(value: &Value, path: &str) -> Result<Vec<Category>, RequestError> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = format!("{path}[{i}]");
            Category::new(string(v, &at)?).map_err(|e| field(&at, e))
        })
        .collect()
}

/// A whole number of `0..=max` (counts and percentages).
fn small(
    map: &Map<String, Value>,
    path: &str,
    key: &str,
    max: i64,
) -> Result<Option<u32>, RequestError> {
    get(map, key)
        .map(|v| integer(v, &join(path, key), 0, max).map(|n| n as u32))
        .transpose()
}

/// The `constraints` object.
fn constraints(value: &Value) -> Result<SideConstraints, RequestError> {
    let path = "constraints";
    let map = object(
        value,
        path,
        &[
            "quotas",
            "max_creator_share_pct",
            "min_creators",
            "max_creators",
            "categories",
        ],
    )?;
    let mut side = SideConstraints::new();
    if let Some(v) = get(map, "quotas") {
        let qpath = join(path, "quotas");
        for (i, q) in array(v, &qpath)?.iter().enumerate() {
            let at = format!("{qpath}[{i}]");
            let m = object(
                q,
                &at,
                &[
                    "platform",
                    "tier",
                    "min_count",
                    "max_count",
                    "min_share_pct",
                    "max_share_pct",
                ],
            )?;
            let group = match (get(m, "platform"), get(m, "tier")) {
                (Some(p), None) => Group::Platform(platform(p, &join(&at, "platform"))?),
                (None, Some(t)) => Group::Tier(tier(t, &join(&at, "tier"))?),
                (Some(_), Some(_)) => {
                    return Err(field(&at, "give either platform or tier, not both"));
                }
                (None, None) => return Err(field(&at, "needs a platform or a tier")),
            };
            let count = MAX_COUNT;
            side = side.quota(
                Quota::new(group)
                    .count(
                        small(m, &at, "min_count", count)?,
                        small(m, &at, "max_count", count)?,
                    )
                    .share_pct(
                        small(m, &at, "min_share_pct", 100)?,
                        small(m, &at, "max_share_pct", 100)?,
                    ),
            );
        }
    }
    side.max_creator_share_pct = small(map, path, "max_creator_share_pct", 100)?;
    side.min_creators = small(map, path, "min_creators", MAX_COUNT)?;
    side.max_creators = small(map, path, "max_creators", MAX_COUNT)?;
    if let Some(v) = get(map, "categories") {
        side.categories = categories(v, &join(path, "categories"))?;
    }
    Ok(side)
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

/// Reads, validates and solves a request, and its budget frontier from 0 to `max` THB (default
/// twice the request's budget) at `points` budgets, each solved with `method`.
///
/// # Errors
/// As [`solve`], and [`OptimizerError::InvalidFrontier`] for no points.
pub fn solve_with_frontier(
    text: &str,
    method: Method,
    max: Option<u64>,
    points: usize,
) -> Result<(Plan, Frontier), RequestError> {
    let problem = Problem::new(parse_request(text)?)?;
    let plan = problem.solve(method)?;
    let budget = problem.budget().get();
    let max = max.unwrap_or_else(|| budget.saturating_mul(2)).max(1);
    let frontier = problem.frontier(Budget::new(0), Budget::new(max), points, method)?;
    Ok((plan, frontier))
}
