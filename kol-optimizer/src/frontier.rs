//! The budget frontier: effective reach as a function of the budget, and the cost of reaching
//! each reach target.
//!
//! [`Problem::frontier`] sorts the hull increments once (for the largest budget) and reads the
//! LP upper envelope off their prefix sums: a concave, piecewise linear function of the budget
//! whose breakpoints are the cumulative (price, reach) of the increments, and which bounds the
//! reach of every plan at every budget (the LP of the largest budget's items is at least the LP of
//! any smaller budget's). Plans are solved at evenly spaced budget points, each with its own
//! proven bound and gap, and the marginal reach of each step. Greedy points share the one
//! sorted model: its LP break solution is carried from budget to budget (budgets go up, so what
//! fit still fits), fills stop as soon as nothing left can fit, the best single item comes from
//! one index by price (built only if some point needs it), so a point costs a fraction of a
//! greedy plan. A point below the dearest item gets the shared model lowered to its budget
//! (the classes with unaffordable points get the hull of what is left, merged into the sorted
//! increments in O(n)), into one model reused from point to point: keeping unaffordable items
//! on the hulls would weaken plan and bound.
//! Exact points, and every point of a problem with side constraints, are solved as problems of
//! their own.
//!
//! [`Problem::cost_frontier`] does the same for reach targets: the LP lower bound on the cost of
//! each target (the same envelope read the other way) and the cheapest plan found for it.

use kol_core::KolId;
use serde::Serialize;

use crate::error::{OptimizerError, Result};
use crate::greedy;
use crate::model::Model;
use crate::plan::{Figures, Mode, Plan, assemble};
use crate::problem::{Objective, Pin, PlanRequest, Problem};
use crate::solve::Method;
use crate::units::{Budget, EffectiveReach};

/// One breakpoint of the LP upper envelope.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Breakpoint {
    /// Budget in THB.
    pub budget: u64,
    /// No plan within this budget reaches more.
    pub reach: EffectiveReach,
}

/// A plan at one budget point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrontierPoint {
    /// The budget, in THB.
    pub budget: u64,
    /// The plan, with its own proven `upper_bound` and `gap`.
    pub plan: Plan,
    /// The LP envelope at this budget.
    pub envelope: EffectiveReach,
    /// Effective reach gained over the previous point (people; `None` for the first).
    pub marginal_reach: Option<f64>,
}

/// Reach against budget: the LP envelope and plans at chosen budgets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frontier {
    /// Breakpoints of the LP upper envelope from the smallest to the largest budget asked
    /// (both ends included): concave, non-decreasing, linear in between.
    pub envelope: Vec<Breakpoint>,
    /// Plans at evenly spaced budgets, smallest first.
    pub points: Vec<FrontierPoint>,
}

impl Frontier {
    /// The LP envelope at `budget` (linear between breakpoints, flat outside them).
    pub fn envelope_at(&self, budget: u64) -> EffectiveReach {
        envelope_at(&self.envelope, budget)
    }
}

fn envelope_at(env: &[Breakpoint], budget: u64) -> EffectiveReach {
    let k = env.partition_point(|b| b.budget <= budget);
    match (k.checked_sub(1).map(|i| env[i]), env.get(k)) {
        (None, Some(b)) => b.reach,
        (None, None) => EffectiveReach::ZERO,
        (Some(a), None) => a.reach,
        (Some(a), Some(b)) => {
            let (ra, rb) = (a.reach.micros(), b.reach.micros());
            let dx = u128::from(b.budget - a.budget);
            let x = u128::from(budget - a.budget);
            EffectiveReach::from_micros(ra + (rb - ra) * x / dx)
        }
    }
}

/// A plan for one reach target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostPoint {
    /// The reach target.
    pub target: EffectiveReach,
    /// The plan (its `cost_lower_bound` is proven; `shortfall` when the budget cannot reach it).
    pub plan: Plan,
    /// The LP lower bound on the cost of the target (`None` if no plan reaches it at any price).
    pub lp_cost: Option<u64>,
    /// Extra THB over the previous target's plan (`None` for the first).
    pub marginal_cost: Option<i64>,
}

/// Cost against reach target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostFrontier {
    /// Plans at evenly spaced targets, smallest first.
    pub points: Vec<CostPoint>,
}

/// `points` values from `min` to `max`, evenly spaced (rounded), both ends included.
fn spaced(min: u64, max: u64, points: usize) -> Vec<u64> {
    if points <= 1 || min == max {
        return vec![max];
    }
    let steps = (points - 1) as u128;
    (0..points as u128)
        .map(|k| (u128::from(min) + (u128::from(max - min) * k + steps / 2) / steps) as u64)
        .collect()
}

impl Problem {
    /// The budget frontier from `min` to `max` THB: the LP envelope, and plans found with
    /// `method` at `points` evenly spaced budgets (both ends included; at least 1).
    ///
    /// With side constraints, each point is solved as its own problem (the per-creator cap
    /// depends on the budget), budgets at which no plan meets them are left out, and the
    /// envelope is the unconstrained LP's (still an upper bound; each plan carries its own,
    /// tighter, Lagrangian bound).
    ///
    /// # Errors
    /// [`OptimizerError::InvalidFrontier`] when `min > max`, `points == 0` or `min` is below the
    /// price of the pins; the errors of [`Problem::solve`] at a point.
    pub fn frontier(
        &self,
        min: Budget,
        max: Budget,
        points: usize,
        method: Method,
    ) -> Result<Frontier> {
        let (min, max) = (min.get(), max.get());
        if min > max || points == 0 {
            return Err(OptimizerError::InvalidFrontier {
                reason: format!(
                    "need min <= max and at least one point, got {min}..{max} THB and {points} points"
                ),
            });
        }
        if min < self.pinned_price {
            return Err(OptimizerError::InvalidFrontier {
                reason: format!(
                    "the smallest budget, {min} THB, is below the {} THB of the pinned items",
                    self.pinned_price
                ),
            });
        }
        let mut model = Model::at_budget(self, max);
        let envelope = lp_envelope(&model, min, max);
        // Below the dearest item the shared model's hulls hold items the budget cannot buy,
        // which would weaken both the greedy and its bound: those points get their own model.
        let dearest = model
            .points
            .iter()
            .map(|p| u64::from(p.price))
            .max()
            .unwrap_or(0);
        let budgets = spaced(min, max, points);
        let mut out: Vec<FrontierPoint> = Vec::with_capacity(budgets.len());
        // The shared model's LP break solution, carried from one budget to the next (budgets
        // go up, so the increments that fit still fit), and its best single items.
        let mut carried: Option<(crate::model::Choice, usize)> = None;
        let singles = greedy::Singles::new(&model);
        let mut low: Option<Model> = None;
        for &b in &budgets {
            let plan = if method == Method::Greedy && self.side.is_none() {
                let (m, lp, shared) = if b.saturating_sub(self.pinned_price) >= dearest {
                    model.lower_budget(b);
                    let lp = match carried.take() {
                        Some((choice, from)) => model.relaxation_after(choice, from),
                        None => model.relaxation(),
                    };
                    carried = Some((lp.choice.clone(), lp.brk.unwrap_or(model.incs.len())));
                    (&model, lp, true)
                } else {
                    // One model for every such point, lowered again into the same buffers.
                    let own = match &mut low {
                        Some(own) => {
                            model.lower_into(b, own);
                            own
                        }
                        None => low.insert(model.lowered(b)),
                    };
                    let lp = own.relaxation();
                    (&*own, lp, false)
                };
                let best = greedy::max_reach_with(m, &lp, shared.then_some(&singles));
                let figures = Figures {
                    mode: Mode::Greedy,
                    reach_bound: lp.bound,
                    target: None,
                    cost_bound: None,
                };
                assemble(self, m, &best, figures)
            } else {
                let solved = self
                    .at(b, Objective::MaxReach)
                    .and_then(|p| p.solve(method));
                match solved {
                    Ok(plan) => plan,
                    // No plan meets the side constraints at this budget: no point.
                    Err(
                        OptimizerError::InvalidConstraint { .. }
                        | OptimizerError::InfeasibleConstraints { .. },
                    ) if self.side.is_some() => continue,
                    Err(e) => return Err(e),
                }
            };
            let marginal_reach = out.last().map(|p| {
                plan.total_effective_reach.people() - p.plan.total_effective_reach.people()
            });
            out.push(FrontierPoint {
                budget: b,
                envelope: envelope_at(&envelope, b),
                plan,
                marginal_reach,
            });
        }
        Ok(Frontier {
            envelope,
            points: out,
        })
    }

    /// The cost frontier within this problem's budget: for `points` evenly spaced reach targets
    /// from `min` to `max` (both included), the LP lower bound on their cost and the plan found
    /// with `method` (as the [`Objective::MinCost`] of each).
    ///
    /// # Errors
    /// [`OptimizerError::InvalidFrontier`] when `min > max` or `points == 0`; the errors of
    /// [`Problem::solve`] at a point.
    pub fn cost_frontier(
        &self,
        min: EffectiveReach,
        max: EffectiveReach,
        points: usize,
        method: Method,
    ) -> Result<CostFrontier> {
        if min > max || points == 0 {
            return Err(OptimizerError::InvalidFrontier {
                reason: format!(
                    "need min <= max and at least one point, got {min}..{max} and {points} points"
                ),
            });
        }
        let model = Model::new(self);
        let lp = model.relaxation();
        let best = greedy::max_reach(&model, &lp);
        let (lo, hi) = (min.micros(), max.micros());
        let steps = (points.max(2) - 1) as u128;
        let targets: Vec<u128> = if points == 1 {
            vec![hi]
        } else {
            (0..=steps).map(|k| lo + (hi - lo) * k / steps).collect()
        };
        let mut out: Vec<CostPoint> = Vec::with_capacity(targets.len());
        for &t in &targets {
            let free = t.saturating_sub(model.pinned_reach);
            let cover = model.cover_relaxation(free);
            let lp_cost = cover.cost_bound.map(|c| c + model.pinned_price);
            let objective = Objective::MinCost {
                min_reach: EffectiveReach::from_micros(t),
            };
            let plan = if method == Method::Greedy && self.side.is_none() {
                let figures = Figures {
                    mode: Mode::Greedy,
                    reach_bound: lp.bound,
                    target: Some(t),
                    cost_bound: cover.cost_bound,
                };
                match greedy::min_cost(&model, free, &best) {
                    Some(cheap) => assemble(self, &model, &cheap, figures),
                    None => assemble(self, &model, &best, figures),
                }
            } else {
                self.clone().with_objective(objective).solve(method)?
            };
            let marginal_cost = out.last().map(|p| plan.spent as i64 - p.plan.spent as i64);
            out.push(CostPoint {
                target: EffectiveReach::from_micros(t),
                plan,
                lp_cost,
                marginal_cost,
            });
        }
        Ok(CostFrontier { points: out })
    }

    /// The same problem at another budget (validated again, so side constraints that depend on
    /// the budget are recompiled).
    fn at(&self, budget: u64, objective: Objective) -> Result<Self> {
        let pinned: Vec<Pin> = self
            .pinned
            .iter()
            .enumerate()
            .filter_map(|(ci, p)| {
                p.map(|oi| {
                    let c = &self.candidates[ci];
                    Pin::new(c.kol_id, c.offers[oi as usize].item.clone())
                })
            })
            .collect();
        let excluded: Vec<KolId> = self
            .excluded
            .iter()
            .enumerate()
            .filter(|&(_, &e)| e)
            .map(|(ci, _)| self.candidates[ci].kol_id)
            .collect();
        Self::new(PlanRequest {
            budget: Budget::new(budget),
            candidates: self.candidates.clone(),
            pinned,
            excluded,
            weighting: self.weighting,
            objective,
            constraints: self.constraints.clone(),
        })
    }
}

/// The LP envelope of `model` (built for `max`) from `min` to `max`: base reach at the pinned
/// price, then the prefix sums of the sorted increments.
fn lp_envelope(model: &Model, min: u64, max: u64) -> Vec<Breakpoint> {
    let mut all: Vec<(u64, u128)> = Vec::with_capacity(model.incs.len() + 1);
    let (mut p, mut r) = (model.pinned_price, model.pinned_reach + model.base_reach());
    all.push((p, r));
    for inc in &model.incs {
        p += u64::from(inc.dp);
        r += u128::from(inc.dr);
        all.push((p, r));
    }
    let at = |b: u64| -> u128 {
        let k = all.partition_point(|x| x.0 <= b);
        match (k.checked_sub(1).map(|i| all[i]), all.get(k)) {
            (Some(a), Some(c)) => a.1 + (c.1 - a.1) * u128::from(b - a.0) / u128::from(c.0 - a.0),
            (Some(a), None) => a.1,
            (None, _) => 0,
        }
    };
    let mut env = vec![Breakpoint {
        budget: min,
        reach: EffectiveReach::from_micros(at(min)),
    }];
    for &(b, reach) in &all {
        if b > min && b < max {
            env.push(Breakpoint {
                budget: b,
                reach: EffectiveReach::from_micros(reach),
            });
        }
    }
    if max > min {
        env.push(Breakpoint {
            budget: max,
            reach: EffectiveReach::from_micros(at(max)),
        });
    }
    env
}
