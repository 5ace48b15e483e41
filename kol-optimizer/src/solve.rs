//! The solvers' entry points on a [`Problem`]: [`Problem::greedy`], [`Problem::upper_bound`] and
//! [`Problem::exact`].

use crate::error::{OptimizerError, Result};
use crate::exact::{self, Goal};
use crate::greedy;
use crate::model::{Choice, Model};
use crate::plan::{Figures, Mode, Plan, assemble};
use crate::problem::{Objective, Problem};
use crate::units::EffectiveReach;

/// What the exact search does when it reaches its work limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OnWorkLimit {
    /// Return [`OptimizerError::WorkLimit`], with the best plan so far attached.
    Error,
    /// Return the best plan so far, with mode [`Mode::ExactBestSoFar`] and its proven gap.
    #[default]
    BestSoFar,
}

/// Options of the exact search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExactOptions {
    /// The most (price, reach) states one search may generate (before dominance and bound
    /// pruning). Time is about linear in it: on the 2-core development machine, roughly 15 to 30
    /// million states a second. Memory is at most about 3 x 32 bytes per state generated while
    /// adding one KOL, plus 12 bytes per state kept; in practice far less. The default, 100
    /// million, is a few seconds of work.
    pub work_limit: u64,
    /// What to do at the limit.
    pub on_work_limit: OnWorkLimit,
}

impl ExactOptions {
    /// The default work limit.
    pub const DEFAULT_WORK_LIMIT: u64 = 100_000_000;
}

impl Default for ExactOptions {
    fn default() -> Self {
        Self {
            work_limit: Self::DEFAULT_WORK_LIMIT,
            on_work_limit: OnWorkLimit::default(),
        }
    }
}

/// How to solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// [`Problem::greedy`].
    Greedy,
    /// [`Problem::exact`] with these options.
    Exact(ExactOptions),
}

impl Problem {
    /// No plan within the budget (with the same pins, exclusions and side constraints) reaches
    /// more.
    ///
    /// Without side constraints, the LP-relaxation value, in O(n log n) for n items. With them,
    /// the smaller of that and the Lagrangian bound [`Problem::try_greedy`] reports (the same
    /// work as one constrained greedy); the pinned reach alone when that bound proves that no
    /// plan meets them.
    pub fn upper_bound(&self) -> EffectiveReach {
        let model = Model::new(self);
        let lp = model.relaxation().bound;
        let free = match &self.side {
            Some(side) => lp.min(crate::side::reach_bound(self, side)),
            None => lp,
        };
        EffectiveReach::from_micros(model.pinned_reach + free)
    }

    /// The greedy plan, in O(n log n) time and O(n) memory.
    ///
    /// Max reach: at least half the optimum (proven), usually within a fraction of a percent of
    /// it; `upper_bound` is the LP value. Reach target: the cheaper of two greedy plans that meet
    /// it (the cover greedy, which takes increments by efficiency until the target is met, and
    /// the max-reach greedy), each then downgraded KOL by KOL as far as the target allows;
    /// `cost_lower_bound` is the cover LP's value. When the cover greedy's plan fits the budget,
    /// the result costs at most `cost_lower_bound` plus the price of one item (the one whose
    /// increment crosses the target). When neither plan meets the target, the max-reach greedy
    /// plan is returned with its `shortfall`; the exact mode can tell whether the target is
    /// reachable at all.
    ///
    /// With side constraints, see [`Problem::try_greedy`]; when no plan meets them, this returns
    /// the pins alone with the conflict in [`Plan::unmet_constraints`].
    pub fn greedy(&self) -> Plan {
        if self.side.is_some() {
            return self.try_greedy().unwrap_or_else(|e| {
                let unmet = match e {
                    OptimizerError::InfeasibleConstraints { conflict } => conflict,
                    other => vec![other.to_string()],
                };
                let mut plan = crate::plan::assemble_side(
                    self,
                    &[],
                    crate::plan::SideFigures {
                        mode: Mode::Greedy,
                        reach_bound: None,
                        target: None,
                        cost_bound: None,
                    },
                );
                plan.unmet_constraints = unmet;
                plan
            });
        }
        let model = Model::new(self);
        let lp = model.relaxation();
        let best = greedy::max_reach(&model, &lp);
        let figures = Figures {
            mode: Mode::Greedy,
            reach_bound: lp.bound,
            target: None,
            cost_bound: None,
        };
        match self.objective {
            Objective::MaxReach => assemble(self, &model, &best, figures),
            Objective::MinCost { min_reach } => {
                let target = min_reach.micros();
                let free = target.saturating_sub(model.pinned_reach);
                let cover = model.cover_relaxation(free);
                let figures = Figures {
                    target: Some(target),
                    cost_bound: cover.cost_bound,
                    ..figures
                };
                match greedy::min_cost(&model, free, &best) {
                    Some(cheap) => assemble(self, &model, &cheap, figures),
                    None => assemble(self, &model, &best, figures),
                }
            }
        }
    }

    /// The greedy plan, or why there is none.
    ///
    /// Without side constraints, always [`Problem::greedy`]'s plan. With side constraints
    /// (see [`crate::constraints`]): a Lagrangian relaxation of the side constraints over the
    /// MCKP LP, optimized by subgradient steps, gives a proven `upper_bound` (`cost_lower_bound`
    /// for a reach target); the plan comes from repairing the LP solutions (moves that most
    /// reduce the violation) and filling what is left. When no repair succeeds, a feasibility
    /// phase (the exact branch and bound, at most 2 million nodes) finds a plan or proves none
    /// exists. The plan meets every side constraint.
    ///
    /// # Errors
    /// [`OptimizerError::InfeasibleConstraints`] naming a minimal conflicting set when no plan
    /// meets the side constraints (proven); [`OptimizerError::ConstraintsUndecided`] when the
    /// feasibility phase neither found nor excluded one.
    pub fn try_greedy(&self) -> Result<Plan> {
        match &self.side {
            Some(side) => crate::side::solve(self, side, None),
            None => Ok(self.greedy()),
        }
    }

    /// A proven optimal plan, or the best plan found within the work limit.
    ///
    /// Max reach: the largest reach within the budget, then the lowest spend. Reach target: the
    /// lowest spend meeting the target, then the largest reach; when no plan within the budget
    /// meets it (proven), the max-reach optimum with its `shortfall`. A finished search has
    /// mode [`Mode::Exact`], `gap` 0 for max reach, and `cost_lower_bound == spent` for a met
    /// target.
    ///
    /// # Errors
    /// [`OptimizerError::WorkLimit`] when the search hits `options.work_limit` and
    /// `options.on_work_limit` is [`OnWorkLimit::Error`].
    ///
    /// With side constraints: a dynamic programme over the KOLs on partial plans (spend, row
    /// sums, value), pruned by dominance and by the Lagrangian bound (see
    /// [`Problem::try_greedy`]) of the KOLs still to decide, aimed first just below the bound
    /// and then lower; `work_limit` counts the partial plans made (and the search also stops
    /// before it would hold more than about 512 MiB, whatever the limit). It proves the optimum
    /// reach (among plans of equal reach, not necessarily the lowest spend) or the lowest price
    /// meeting the target, or stops at the limit with the best bound it proved as gap. Errors as
    /// [`Problem::try_greedy`] too.
    pub fn exact(&self, options: &ExactOptions) -> Result<Plan> {
        if let Some(side) = &self.side {
            return crate::side::solve(self, side, Some(options));
        }
        let model = Model::new(self);
        let lp = model.relaxation();
        let greedy = greedy::max_reach(&model, &lp);
        match self.objective {
            Objective::MaxReach => {
                let (choice, figures) = exact_max_reach(&model, &lp, greedy, options, None);
                finish(self, &model, &choice, figures, options)
            }
            Objective::MinCost { min_reach } => {
                let target = min_reach.micros();
                exact_min_cost(self, &model, &lp, greedy, target, options)
            }
        }
    }

    /// Solves with `method`.
    ///
    /// # Errors
    /// As [`Problem::try_greedy`] or [`Problem::exact`].
    pub fn solve(&self, method: Method) -> Result<Plan> {
        match method {
            Method::Greedy => self.try_greedy(),
            Method::Exact(options) => self.exact(&options),
        }
    }
}

fn exact_max_reach(
    model: &Model,
    lp: &crate::model::Relaxation,
    greedy: Choice,
    options: &ExactOptions,
    target: Option<u128>,
) -> (Choice, Figures) {
    let mut figures = Figures {
        mode: Mode::Exact,
        reach_bound: greedy.reach,
        target,
        cost_bound: None,
    };
    let Some(brk) = lp.brk else {
        // The LP solution is integral: the greedy returned it, and it is optimal.
        return (greedy, figures);
    };
    let out = exact::search(
        model,
        Goal::MaxReach,
        &lp.choice,
        &model.incs[brk],
        Some(&greedy),
        options.work_limit,
    );
    let best = out.best.unwrap_or(greedy);
    figures.reach_bound = if out.finished {
        best.reach
    } else {
        out.reach_bound.min(lp.bound)
    };
    if !out.finished {
        figures.mode = Mode::ExactBestSoFar;
    }
    (best, figures)
}

fn exact_min_cost(
    problem: &Problem,
    model: &Model,
    lp: &crate::model::Relaxation,
    greedy: Choice,
    target: u128,
    options: &ExactOptions,
) -> Result<Plan> {
    let free = target.saturating_sub(model.pinned_reach);
    let cover = model.cover_relaxation(free);
    let reachable = cover.cost_bound.is_some_and(|c| c <= model.capacity);
    let figures = Figures {
        mode: Mode::Exact,
        reach_bound: lp.bound,
        target: Some(target),
        cost_bound: cover.cost_bound,
    };
    if reachable {
        let Some(brk) = cover.brk else {
            // The free items alone meet the target: nothing to buy.
            let figures = Figures {
                cost_bound: Some(0),
                ..figures
            };
            return finish(problem, model, &cover.choice, figures, options);
        };
        let incumbent = greedy::min_cost(model, free, &greedy);
        let out = exact::search(
            model,
            Goal::MinCost { target: free },
            &cover.choice,
            &model.incs[brk],
            incumbent.as_ref(),
            options.work_limit,
        );
        match (out.best, out.finished) {
            (Some(best), true) => {
                let figures = Figures {
                    cost_bound: Some(best.spent),
                    ..figures
                };
                return finish(problem, model, &best, figures, options);
            }
            (Some(best), false) => {
                let figures = Figures {
                    mode: Mode::ExactBestSoFar,
                    cost_bound: Some(out.cost_bound.max(cover.cost_bound.unwrap_or(0))),
                    ..figures
                };
                return finish(problem, model, &best, figures, options);
            }
            (None, false) => {
                // Nothing found yet and no proof that nothing exists: report the greedy plan.
                let figures = Figures {
                    mode: Mode::ExactBestSoFar,
                    ..figures
                };
                return finish(problem, model, &greedy, figures, options);
            }
            (None, true) => {} // Proven: no plan within the budget meets the target.
        }
    }
    let (best, figures) = exact_max_reach(model, lp, greedy, options, Some(target));
    finish(problem, model, &best, figures, options)
}

fn finish(
    problem: &Problem,
    model: &Model,
    choice: &Choice,
    figures: Figures,
    options: &ExactOptions,
) -> Result<Plan> {
    let plan = assemble(problem, model, choice, figures);
    if plan.mode == Mode::ExactBestSoFar && options.on_work_limit == OnWorkLimit::Error {
        return Err(OptimizerError::WorkLimit {
            limit: options.work_limit,
            best: Box::new(plan),
        });
    }
    Ok(plan)
}
