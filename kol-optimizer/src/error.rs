//! The one error type of `kol-optimizer`: invalid requests, infeasible pins, and an exact search
//! that hit its work limit.

use kol_core::{DeliverableItem, KolId};

use crate::plan::Plan;

/// Everything that can go wrong while validating a request or solving it.
///
/// Variants that point into a [`PlanRequest`](crate::PlanRequest) carry the position of the
/// offending entry, and their `Display` names it with the same path as the JSON request format
/// (`candidates[3].items[1].item`), so a caller can show it as is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimizerError {
    /// A budget was negative.
    #[error("budget: must be >= 0, got {value}")]
    NegativeBudget {
        /// The rejected value.
        value: i64,
    },
    /// A relevance weight was NaN, infinite, negative, or above [`Relevance::MAX`](crate::Relevance::MAX).
    #[error("relevance: must be a finite number between 0 and {max}, got {value}")]
    InvalidRelevance {
        /// The rejected value.
        value: f64,
        /// The largest accepted weight.
        max: f64,
    },
    /// A reach target was NaN, infinite, negative, or above [`EffectiveReach::MAX_PEOPLE`](crate::EffectiveReach::MAX_PEOPLE).
    #[error("min_reach: must be a finite number between 0 and {max}, got {value}")]
    InvalidReachTarget {
        /// The rejected value.
        value: f64,
        /// The largest accepted target.
        max: f64,
    },
    /// The same KOL appears twice among the candidates.
    #[error(
        "candidates[{second}].kol_id: KOL {kol_id} is listed twice (first at candidates[{first}])"
    )]
    DuplicateKol {
        /// The repeated id.
        kol_id: KolId,
        /// Position of its first listing.
        first: usize,
        /// Position of the repeat.
        second: usize,
    },
    /// One KOL lists the same item twice.
    #[error(
        "candidates[{candidate}].items[{second}].item: \"{item}\" is listed twice for KOL {kol_id} (first at items[{first}])"
    )]
    DuplicateItem {
        /// The KOL.
        kol_id: KolId,
        /// Position of the KOL among the candidates.
        candidate: usize,
        /// The repeated item.
        item: DeliverableItem,
        /// Position of its first listing.
        first: usize,
        /// Position of the repeat.
        second: usize,
    },
    /// A pin names a KOL that is not a candidate.
    #[error("pinned[{index}].kol_id: KOL {kol_id} is not among the candidates")]
    PinUnknownKol {
        /// Position of the pin.
        index: usize,
        /// The KOL it names.
        kol_id: KolId,
    },
    /// A pin names an item its KOL does not offer.
    #[error("pinned[{index}].item: KOL {kol_id} offers no item \"{item}\"")]
    PinUnknownItem {
        /// Position of the pin.
        index: usize,
        /// The KOL.
        kol_id: KolId,
        /// The item it names.
        item: DeliverableItem,
    },
    /// Two pins name the same KOL (a plan takes at most one item per KOL).
    #[error(
        "pinned[{second}].kol_id: KOL {kol_id} is pinned twice (first at pinned[{first}]); a plan takes at most one item per KOL"
    )]
    DuplicatePin {
        /// The KOL.
        kol_id: KolId,
        /// Position of the first pin.
        first: usize,
        /// Position of the second pin.
        second: usize,
    },
    /// A pinned KOL is also excluded.
    #[error("pinned[{index}].kol_id: KOL {kol_id} is both pinned and excluded")]
    PinnedAndExcluded {
        /// Position of the pin.
        index: usize,
        /// The KOL.
        kol_id: KolId,
    },
    /// The pinned items alone cost more than the budget.
    #[error(
        "pinned: the pinned items cost {pinned_price} THB, more than the budget of {budget} THB"
    )]
    InfeasiblePins {
        /// Total price of the pinned items.
        pinned_price: u64,
        /// The budget.
        budget: u64,
    },
    /// More rate-card items (or candidates) than the solver indexes (`u32::MAX - 9`: item,
    /// candidate and item-name indices are `u32`).
    #[error("too many rate-card items: {items} (at most {max})")]
    TooManyItems {
        /// How many were given.
        items: usize,
        /// The limit.
        max: usize,
    },
    /// The exact search hit its work limit before proving a plan optimal.
    ///
    /// Returned only with [`OnWorkLimit::Error`](crate::OnWorkLimit::Error); the best plan found so
    /// far is attached, with its proven gap.
    #[error(
        "the exact search stopped at its work limit of {limit} states before proving optimality; best plan so far is within {:.4}% of optimal",
        best.gap * 100.0
    )]
    WorkLimit {
        /// The limit that was hit.
        limit: u64,
        /// The best plan found, whose `upper_bound` and `gap` are proven.
        best: Box<Plan>,
    },
    /// Side constraints that conflict on their face (found by [`Problem::new`](crate::Problem::new)).
    #[error("{field}: {reason}")]
    InvalidConstraint {
        /// The constraint, as a path of the JSON request (`constraints.quotas[0].min_count`).
        field: String,
        /// What conflicts with what.
        reason: String,
    },
    /// No plan within the budget meets these side constraints together (proven by the solver).
    #[error("constraints: no plan within the budget meets these together: {}", conflict.join("; "))]
    InfeasibleConstraints {
        /// The conflicting constraints (a subset that cannot be met together with the budget,
        /// pins and exclusions), named as in the JSON request.
        conflict: Vec<String>,
    },
    /// The constrained search could neither find a plan meeting the side constraints nor prove
    /// that none exists within its work limit.
    #[error(
        "constraints: no plan meeting them was found within the work limit of {limit}, and none was proven impossible"
    )]
    ConstraintsUndecided {
        /// The work limit.
        limit: u64,
    },
    /// A budget or cost frontier was asked with an empty or inverted range.
    #[error("frontier: {reason}")]
    InvalidFrontier {
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`OptimizerError`] as the error.
pub type Result<T, E = OptimizerError> = std::result::Result<T, E>;
