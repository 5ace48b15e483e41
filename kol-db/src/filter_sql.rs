//! kol-core's [`KolFilter`] as SQL: one builder, used by the creator listing and the creator
//! search, so both mean exactly what `KolFilter::matches` means.

use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Integer, Text};
use kol_core::{KolFilter, OutreachFilter};

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Texts(Vec<String>),
    Text(String),
    Int(i32),
    BigInt(i64),
}

/// SQL conditions on the creators table (aliased `k`) with their bind values, numbered from a
/// given first placeholder.
#[derive(Debug, Default)]
pub(crate) struct SqlFilter {
    pub(crate) clauses: Vec<String>,
    pub(crate) binds: Vec<Bind>,
    next: usize,
}

impl SqlFilter {
    /// The conditions of `filter`, with placeholders starting at `$first`.
    pub(crate) fn new(filter: &KolFilter, first: usize) -> Self {
        let mut f = Self {
            clauses: Vec::new(),
            binds: Vec::new(),
            next: first,
        };
        if !filter.platforms.is_empty() {
            let p = f.bind(Bind::Texts(
                filter
                    .platforms
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect(),
            ));
            f.clauses.push(format!("k.platform = ANY({p})"));
        }
        if !filter.countries.is_empty() {
            let p = f.bind(Bind::Texts(
                filter
                    .countries
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
            ));
            f.clauses.push(format!("k.country = ANY({p})"));
        }
        if !filter.categories_any.is_empty() {
            let p = f.bind(Bind::Texts(filter.categories_any.to_strings()));
            f.clauses.push(format!("k.category && {p}"));
        }
        if let Some(min) = filter.min_followers {
            let p = f.bind(Bind::Int(min.to_i32()));
            f.clauses.push(format!("k.followers >= {p}"));
        }
        if let Some(max) = filter.max_followers {
            let p = f.bind(Bind::Int(max.to_i32()));
            f.clauses.push(format!("k.followers <= {p}"));
        }
        if !filter.tiers.is_empty() {
            let p = f.bind(Bind::Texts(
                filter.tiers.iter().map(|t| t.as_str().to_owned()).collect(),
            ));
            f.clauses
                .push(format!("kol_follower_tier(k.followers) = ANY({p})"));
        }
        if let Some(min) = filter.min_audience_th_pct {
            let p = f.bind(Bind::Int(i32::from(min.percent())));
            f.clauses.push(format!("k.audience_th_pct >= {p}"));
        }
        if let Some(max) = filter.max_item_price {
            let p = f.bind(Bind::Int(max.to_i32()));
            f.clauses.push(format!(
                "EXISTS (SELECT 1 FROM rate_cards r WHERE r.kol_id = k.id AND r.price_integer <= {p})"
            ));
        }
        match filter.outreach {
            OutreachFilter::Any => {}
            OutreachFilter::NoOpenConversation => f.clauses.push(
                "NOT EXISTS (SELECT 1 FROM conversations c WHERE c.kol_id = k.id AND c.status <> 'closed')"
                    .to_owned(),
            ),
            OutreachFilter::ConfirmedOnly => f.clauses.push(
                "EXISTS (SELECT 1 FROM conversations c WHERE c.kol_id = k.id AND c.status = 'confirmed')"
                    .to_owned(),
            ),
        }
        f
    }

    /// Adds a value and returns its placeholder.
    pub(crate) fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        let placeholder = format!("${}", self.next);
        self.next += 1;
        placeholder
    }

    /// `AND`-joined conditions (`TRUE` when there are none).
    pub(crate) fn condition(&self) -> String {
        if self.clauses.is_empty() {
            "TRUE".to_owned()
        } else {
            self.clauses.join(" AND ")
        }
    }

    /// Binds the values, in placeholder order, to a query whose earlier placeholders are bound.
    pub(crate) fn bind_all<'f>(
        &self,
        mut query: BoxedSqlQuery<'f, Pg, SqlQuery>,
    ) -> BoxedSqlQuery<'f, Pg, SqlQuery> {
        for b in &self.binds {
            query = match b {
                Bind::Texts(v) => query.bind::<Array<Text>, _>(v.clone()),
                Bind::Text(t) => query.bind::<Text, _>(t.clone()),
                Bind::Int(i) => query.bind::<Integer, _>(*i),
                Bind::BigInt(i) => query.bind::<BigInt, _>(*i),
            };
        }
        query
    }
}
