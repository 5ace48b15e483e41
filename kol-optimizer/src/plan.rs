//! The answer: which item of which KOL, what it costs, what it reaches, and how far from optimal
//! it can be.

use kol_core::{DeliverableItem, KolId, PriceThb};
use serde::Serialize;

use crate::model::{Choice, Model, NONE, Point};
use crate::problem::Problem;
use crate::units::EffectiveReach;

/// How a plan was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The greedy: at least half the optimum, usually within a fraction of a percent.
    Greedy,
    /// The exact search finished: the plan is optimal.
    Exact,
    /// The exact search hit its work limit: the best plan found, with a proven gap.
    ExactBestSoFar,
}

impl Mode {
    /// The name used in JSON (`greedy`, `exact`, `exact_best_so_far`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Greedy => "greedy",
            Self::Exact => "exact",
            Self::ExactBestSoFar => "exact_best_so_far",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One booked item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// The KOL.
    pub kol_id: KolId,
    /// The item of its rate card.
    pub item: DeliverableItem,
    /// Its price.
    pub price: PriceThb,
    /// Its effective reach.
    pub effective_reach: EffectiveReach,
    /// Whether the request pinned it.
    #[serde(skip)]
    pub pinned: bool,
}

/// A budget allocation: at most one item per KOL, within the budget.
///
/// Serializes with the field names of the JSON plan format: `mode`, `selections`, `spent`,
/// `remaining`, `total_effective_reach`, `upper_bound`, `gap`, then `shortfall` and
/// `cost_lower_bound` only when a reach target was given.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// How it was found.
    pub mode: Mode,
    /// The booked items, sorted by KOL id.
    pub selections: Vec<Selection>,
    /// Total price, in THB.
    pub spent: u64,
    /// Budget left, in THB.
    pub remaining: u64,
    /// Total effective reach.
    pub total_effective_reach: EffectiveReach,
    /// A proven upper bound on the effective reach of every plan within the budget (with the
    /// same pins and exclusions): the LP relaxation for the greedy, the optimum itself for a
    /// finished exact search, the search's remaining bound for a stopped one.
    pub upper_bound: EffectiveReach,
    /// `1 - total_effective_reach / upper_bound` (0 when the bound is 0): the plan is at most
    /// this far below the best possible reach.
    pub gap: f64,
    /// With a reach target the plan does not meet: how much reach is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<EffectiveReach>,
    /// With a reach target the plan meets: a proven lower bound on the price of every plan
    /// meeting it (equal to `spent` when the exact search proved the plan cheapest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_lower_bound: Option<u64>,
    /// Side constraints the plan does not meet: empty, except for the plan of
    /// [`Problem::greedy`](crate::Problem::greedy) when no plan meets them (then the plan is the
    /// pins alone, and this names the conflict; [`Problem::try_greedy`](crate::Problem::try_greedy)
    /// returns the error instead).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmet_constraints: Vec<String>,
}

impl Plan {
    /// True when the plan is proven to have the best possible reach (or, with a reach target,
    /// the lowest possible price).
    pub fn is_proven_optimal(&self) -> bool {
        self.mode == Mode::Exact
    }
}

/// Extra figures of a plan beyond its selections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figures {
    pub(crate) mode: Mode,
    /// Upper bound on free-class reach (pinned reach is added here).
    pub(crate) reach_bound: u128,
    pub(crate) target: Option<u128>,
    /// Lower bound on the free-class price of plans meeting the target.
    pub(crate) cost_bound: Option<u64>,
}

/// Assembles the plan of `choice` (free classes) plus the pinned items.
pub(crate) fn assemble(problem: &Problem, model: &Model, choice: &Choice, f: Figures) -> Plan {
    /// Classes looked at together: found without branches, then read.
    const CHUNK: usize = 256;
    // Room for every class off its first point (the first is "nothing" or a free item) and
    // every pin: one allocation, no copies as the plan grows (unless free first items need a
    // little more).
    let off_first = model
        .classes
        .iter()
        .zip(&choice.points)
        .filter(|&(class, &p)| p != class.start)
        .count();
    let mut selections = Vec::with_capacity(off_first + problem.pins.len());
    // Pins and classes are both in candidate (so KOL id) order: merge them.
    let mut pins = problem.pins.iter().peekable();
    let mut picked = [0u32; CHUNK];
    for (classes, points) in model.classes.chunks(CHUNK).zip(choice.points.chunks(CHUNK)) {
        // A class on its first point books nothing unless that point is a free item: most
        // classes are skipped without reading their points, and without a branch each.
        let mut n = 0;
        for (k, (class, &p)) in classes.iter().zip(points).enumerate() {
            picked[n] = k as u32;
            n += usize::from(model.free_first || p != class.start);
        }
        for &k in &picked[..n] {
            let k = k as usize;
            let point = model.points[points[k] as usize];
            if point.offer == NONE {
                continue;
            }
            let ci = classes[k].candidate as usize;
            while let Some(&(pc, po)) = pins.next_if(|&&(pc, _)| pc < ci) {
                selections.push(selection(problem, pc, po, true));
            }
            selections.push(booked(problem, ci, point));
        }
    }
    selections.extend(pins.map(|&(ci, oi)| selection(problem, ci, oi, true)));
    let spent = model.pinned_price + choice.spent;
    let reach = model.pinned_reach + choice.reach;
    let bound = (model.pinned_reach + f.reach_bound).max(reach);
    let cost_bound = f.cost_bound.map(|c| model.pinned_price + c);
    finish(
        model.budget,
        selections,
        spent,
        reach,
        bound,
        f.mode,
        f.target,
        cost_bound,
    )
}

/// Figures of a plan from the constrained solver.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SideFigures {
    pub(crate) mode: Mode,
    /// Upper bound on free-class reach, when the solver bounds reach.
    pub(crate) reach_bound: Option<u128>,
    pub(crate) target: Option<u128>,
    /// Lower bound on the free-class price of plans meeting the target.
    pub(crate) cost_bound: Option<u64>,
}

/// Assembles the plan of free picks `(candidate, offer)` (in candidate order) plus the pins.
pub(crate) fn assemble_side(problem: &Problem, free: &[(usize, usize)], f: SideFigures) -> Plan {
    let pins = problem.pins.iter().map(|&(ci, oi)| (ci, oi, true));
    let mut picks: Vec<(usize, usize, bool)> = pins
        .chain(free.iter().map(|&(ci, oi)| (ci, oi, false)))
        .collect();
    picks.sort_unstable();
    let price = |ci: usize, oi: usize| problem.items_of(ci)[oi].0;
    let pinned_price: u64 = picks.iter().filter(|p| p.2).map(|p| price(p.0, p.1)).sum();
    let pinned_reach: u128 = picks
        .iter()
        .filter(|p| p.2)
        .map(|p| u128::from(problem.micros(p.0, p.1)))
        .sum();
    let spent: u64 = picks.iter().map(|p| price(p.0, p.1)).sum();
    let reach: u128 = picks
        .iter()
        .map(|p| u128::from(problem.micros(p.0, p.1)))
        .sum();
    let bound = f
        .reach_bound
        .map_or(reach, |b| (pinned_reach + b).max(reach));
    let cost_bound = f.cost_bound.map(|c| (pinned_price + c).min(spent));
    let selections = picks
        .into_iter()
        .map(|(ci, oi, pinned)| selection(problem, ci, oi, pinned))
        .collect();
    finish(
        problem.budget,
        selections,
        spent,
        reach,
        bound,
        f.mode,
        f.target,
        cost_bound,
    )
}

/// Item `oi` of candidate `ci` (canonical positions) as a selection, from the problem's flat
/// tables (read in candidate order, they stream through the cache).
fn selection(problem: &Problem, ci: usize, oi: usize, pinned: bool) -> Selection {
    let at = problem.first[ci] as usize + oi;
    labelled(problem, ci, at, problem.items[at].1, pinned)
}

/// [`selection`] of a free class's frontier point (its effective reach read off the point).
fn booked(problem: &Problem, ci: usize, point: Point) -> Selection {
    let at = problem.first[ci] as usize + point.offer as usize;
    labelled(problem, ci, at, point.reach, false)
}

/// The selection of flat item `at` of candidate `ci`, with its effective reach in micro-people.
fn labelled(problem: &Problem, ci: usize, at: usize, micros: u64, pinned: bool) -> Selection {
    let (name, price) = problem.labels[at];
    Selection {
        kol_id: problem.kol_ids[ci],
        item: problem.names[name as usize].clone(),
        price,
        effective_reach: EffectiveReach::from_micros(u128::from(micros)),
        pinned,
    }
}

/// The plan of `selections` with its totals and bounds.
#[allow(clippy::too_many_arguments)]
fn finish(
    budget: u64,
    selections: Vec<Selection>,
    spent: u64,
    reach: u128,
    bound: u128,
    mode: Mode,
    target: Option<u128>,
    cost_bound: Option<u64>,
) -> Plan {
    let gap = if bound == 0 {
        0.0
    } else {
        #[allow(clippy::cast_precision_loss)]
        let g = (bound - reach) as f64 / bound as f64;
        g
    };
    let shortfall = target
        .filter(|&t| reach < t)
        .map(|t| EffectiveReach::from_micros(t - reach));
    let cost_lower_bound = match target {
        Some(t) if reach >= t => cost_bound,
        _ => None,
    };
    Plan {
        mode,
        selections,
        spent,
        remaining: budget.saturating_sub(spent),
        total_effective_reach: EffectiveReach::from_micros(reach),
        upper_bound: EffectiveReach::from_micros(bound),
        gap,
        shortfall,
        cost_lower_bound,
        unmet_constraints: Vec::new(),
    }
}
