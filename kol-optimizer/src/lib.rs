//! Campaign budget allocation over creators' rate cards: a greedy with a proven bound, an exact
//! mode, and the optimality gap of every plan.
//!
//! Each candidate KOL offers rate-card items (price in THB, estimated reach). The effective reach
//! of an item is `est_reach x audience_th_pct / 100 x relevance` (see [`Weighting`]). A plan
//! takes at most one item per KOL, honours pins and exclusions, stays within the budget, and
//! maximizes total effective reach ([`Objective::MaxReach`]), or is the cheapest plan reaching a
//! target ([`Objective::MinCost`]). This is the multiple-choice knapsack problem (MCKP).
//!
//! ```
//! use kol_core::{AudienceShare, DeliverableItem, KolId, PriceThb, Reach};
//! use kol_optimizer::{Budget, Candidate, ExactOptions, Offer, PlanRequest, Problem};
//!
//! let offer = |item: &str, price, reach| {
//!     Offer::new(
//!         DeliverableItem::new(item).unwrap(),
//!         PriceThb::new(price).unwrap(),
//!         Reach::new(reach).unwrap(),
//!     )
//! };
//! let share = AudienceShare::new(80).unwrap();
//! let candidates = vec![
//!     Candidate::new(KolId(1), share, vec![offer("tiktok_video", 5_000, 20_000), offer("bundle", 12_000, 45_000)]),
//!     Candidate::new(KolId(2), share, vec![offer("ig_post", 8_000, 30_000)]),
//! ];
//! let problem = Problem::new(PlanRequest::new(Budget::new(15_000), candidates)).unwrap();
//! let plan = problem.exact(&ExactOptions::default()).unwrap();
//! assert_eq!(plan.spent, 13_000);
//! assert_eq!(plan.total_effective_reach.people(), 40_000.0);
//! assert_eq!(plan.gap, 0.0);
//! assert!(problem.greedy().total_effective_reach <= plan.total_effective_reach);
//! ```
//!
//! # Design
//!
//! - **Exact arithmetic.** Effective reach is an integer number of micro-people
//!   ([`EffectiveReach`]): audience share is whole percent and relevance is kept to four
//!   decimals ([`Relevance`]), so the product is exact. Sums are 128-bit; slopes are compared by
//!   cross products, never divided. Every comparison, dominance test and tie-break is exact, and
//!   the same input gives the same plan, byte for byte.
//! - **Canonical form.** [`Problem::new`] validates a [`PlanRequest`] and sorts candidates by
//!   KOL id and items by name; solvers only see that form, so input order never matters, and
//!   ties go to the lower KOL id, then the item first by name.
//! - **Greedy with a proof** ([`Problem::greedy`]). Per KOL, items that are dominated (costlier
//!   and reaching no more) or LP-dominated (below the upper convex hull of (price, reach) with a
//!   "nothing" point) are dropped; hull increments are applied by decreasing efficiency while
//!   they fit, then any later one that still fits, then each KOL is upgraded once within what is
//!   left. A second fill also takes the first increment that did not fit and gives back the
//!   least efficient ones until the plan fits. The best of the two fills and the best single
//!   item is returned. The LP value is at most the
//!   break solution plus the one fractional increment, and that increment reaches no more than
//!   the best single item, so the plan is at least half the optimum.
//! - **Upper bound** ([`Problem::upper_bound`]): the LP relaxation (Sinha and Zoltners), from the
//!   same sorted increments. Every plan reports it, and its `gap`.
//! - **Exact** ([`Problem::exact`]): Pisinger-style core search. From the LP break solution and
//!   break slope, a linear bound proves most items useless; the remaining classes are added one
//!   at a time to a list of undominated (price, reach) states, each pruned unless its bound can
//!   beat the best plan so far. On uncorrelated and weakly correlated instances the core is a
//!   small fraction of the KOLs, so 10,000 KOLs x 10 items solve in milliseconds (see
//!   BENCHMARKS.md); strongly correlated ones are the hard class. An explicit work limit
//!   ([`ExactOptions`]) returns the best plan so far with its proven gap, or a typed error.
//! - **Side constraints** ([`SideConstraints`] in [`PlanRequest`]): quotas per platform and
//!   follower tier (count and share of spend), a per-creator cap, a number of creators, category
//!   coverage. [`Problem::new`] refuses conflicts visible up front; [`Problem::try_greedy`]
//!   keeps them with a Lagrangian upper bound (subgradient over the MCKP LP), a repair of the
//!   LP solutions and a feasibility phase, and names a minimal conflicting set when no plan
//!   can meet them; [`Problem::exact`] proves the optimum with a dynamic programme pruned by
//!   dominance and by that bound.
//!   Without side constraints none of this runs.
//! - **Frontier** ([`Problem::frontier`], [`Problem::cost_frontier`]): the LP envelope for every
//!   budget from one sort, and plans at chosen budgets (or reach targets) with their gap and the
//!   marginal reach of each step.
//!
//! This crate is pure: no I/O, no async, no database. It depends on `kol-core`, `serde` (plans
//! serialize to the documented JSON field names) and `thiserror`. The `instances` feature adds
//! the `instances` module: reproducible generators of Pisinger's test families and of realistic Thai
//! rate cards, shared by the tests and the benchmarks.

#![warn(missing_docs)]
// On docs.rs (`--cfg docsrs`, nightly), feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod campaign;
pub mod constraints;
pub mod error;
mod exact;
pub mod frontier;
mod greedy;
#[cfg(feature = "instances")]
#[cfg_attr(docsrs, doc(cfg(feature = "instances")))]
pub mod instances;
mod model;
pub mod plan;
pub mod problem;
mod side;
pub mod solve;
pub mod units;

pub use campaign::{
    CampaignOptions, CampaignPlan, Explanation, MatchedCreator, campaign_problem, plan_campaign,
    plan_candidates, relevance_of,
};
pub use constraints::{Group, Quota, SideConstraints};
pub use error::{OptimizerError, Result};
pub use frontier::{Breakpoint, CostFrontier, CostPoint, Frontier, FrontierPoint};
pub use plan::{Mode, Plan, Selection};
pub use problem::{Candidate, Objective, Offer, Pin, PlanRequest, Problem, Weighting};
pub use solve::{ExactOptions, Method, OnWorkLimit};
pub use units::{Budget, EffectiveReach, Relevance};
