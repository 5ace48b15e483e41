//! The fast path: the classic MCKP greedy with its 1/2 guarantee, and a greedy for reach targets.
//!
//! Max reach: apply hull increments by decreasing efficiency while they fit (the LP's break
//! solution), keep applying later ones that still fit, and upgrade each KOL once within the
//! leftover budget. A second fill takes the break increment too and gives back the least
//! efficient increments until the plan fits, then fills the same way. The result is the best of
//! the two fills and the best single item. The LP value is at most the break solution plus the
//! break increment, and the best single item reaches at least that increment, so the result is
//! at least half the LP value, hence half the optimum. Every step is one pass over the sorted
//! increments or the KOLs: O(n) after the sort.
//!
//! Reach target: apply increments until the target is met (the cover relaxation's crossing
//! increment taken whole), then downgrade each KOL as far as the target allows. Its cost is at
//! most the cover LP bound plus the price of that one crossing increment.

use crate::model::{Choice, Model, Relaxation};

/// The max-reach greedy plan for the free classes.
pub(crate) fn max_reach(model: &Model, lp: &Relaxation) -> Choice {
    max_reach_with(model, lp, None)
}

/// Every class's frontier points by price, with the best single-item gain up to each: the
/// best single item at any capacity in `O(log n)`, for a model whose capacity a budget frontier
/// lowers point after point. Built on first use: most points of a frontier never need it (no
/// single item reaches as far as their fill).
pub(crate) struct Singles {
    /// The largest gain of any single item.
    max_gain: u64,
    /// By price, built on first use.
    by_price: std::cell::OnceCell<Vec<SingleAt>>,
}

/// (price, best single-item gain at or below this price, that item's price, class, point).
type SingleAt = (u64, u64, u64, usize, u32);

impl Singles {
    pub(crate) fn new(model: &Model) -> Self {
        let max_gain = model
            .classes
            .iter()
            .map(|c| model.points[c.end as usize - 1].reach - model.points[c.start as usize].reach)
            .max()
            .unwrap_or(0);
        Self {
            max_gain,
            by_price: std::cell::OnceCell::new(),
        }
    }

    fn build(model: &Model) -> Vec<SingleAt> {
        let mut all: Vec<(u64, usize, u32, u64)> = Vec::with_capacity(model.points.len());
        for (c, class) in model.classes.iter().enumerate() {
            let first = model.points[class.start as usize];
            for k in class.start..class.end {
                let p = model.points[k as usize];
                all.push((u64::from(p.price), c, k, p.reach - first.reach));
            }
        }
        all.sort_unstable_by_key(|&(price, c, k, _)| (price, c, k));
        let mut best: Option<(u64, u64, usize, u32)> = None;
        all.into_iter()
            .map(|(price, c, k, gain)| {
                // The same choice as the loop over classes: largest gain, then lowest price,
                // then first class.
                if best.is_none_or(|(g, _, _, _)| gain > g) {
                    best = Some((gain, price, c, k));
                }
                let (g, p, bc, bk) = best.unwrap_or((gain, price, c, k));
                (price, g, p, bc, bk)
            })
            .collect()
    }

    /// The best single item of `model` within `capacity`: (gain, price, class, point).
    fn best(&self, model: &Model, capacity: u64) -> Option<(u64, u64, usize, u32)> {
        let by_price = self.by_price.get_or_init(|| Self::build(model));
        let k = by_price.partition_point(|e| e.0 <= capacity);
        k.checked_sub(1)
            .map(|i| by_price[i])
            .map(|(_, g, p, c, point)| (g, p, c, point))
    }
}

/// [`max_reach`], with the best single item read from `singles` when given.
pub(crate) fn max_reach_with(model: &Model, lp: &Relaxation, singles: Option<&Singles>) -> Choice {
    let mut fill = lp.choice.clone();
    let Some(brk) = lp.brk else {
        // Every increment fits: the LP solution is integral, hence optimal.
        return fill;
    };
    refill(model, &mut fill, brk + 1);
    upgrade(model, &mut fill);
    // Second fill: take the break increment, then give back the least efficient increments
    // until the plan fits, then fill again. Often better when the break item is a big one.
    if let Some(mut other) = with_break(model, lp, brk) {
        upgrade(model, &mut other);
        if other.reach > fill.reach || (other.reach == fill.reach && other.spent < fill.spent) {
            fill = other;
        }
    }

    // The best single item: every class at its base, one at its richest affordable point (the
    // last of its frontier, unless a frontier lowered the capacity below the model's).
    let base_reach = model.base_reach();
    let mut single: Option<(u64, u64, usize, u32)> = None; // (gain, price, class, point)
    let all_fit = model.capacity >= model.filtered;
    if let Some(s) = singles {
        // No single item can beat a fill that reaches further than the best of them.
        if base_reach + u128::from(s.max_gain) >= fill.reach {
            single = s.best(model, model.capacity);
        }
    }
    for (c, class) in model
        .classes
        .iter()
        .enumerate()
        .filter(|_| singles.is_none())
    {
        let first = model.points[class.start as usize];
        let mut end = class.end as usize;
        if !all_fit {
            end = class.start as usize
                + model
                    .frontier(c)
                    .partition_point(|p| u64::from(p.price) <= model.capacity);
        }
        let last = model.points[end - 1];
        let gain = last.reach - first.reach;
        let better = match single {
            None => true,
            Some((g, p, _, _)) => gain > g || (gain == g && u64::from(last.price) < p),
        };
        if better {
            single = Some((gain, u64::from(last.price), c, end as u32 - 1));
        }
    }
    if let Some((gain, price, c, point)) = single {
        let reach = base_reach + u128::from(gain);
        if reach > fill.reach || (reach == fill.reach && price < fill.spent) {
            let mut one = model.base();
            one.switch(&model.points, c, point);
            return one;
        }
    }
    fill
}

/// Applies, in order, every increment from `from` on that continues its class and still fits.
fn refill(model: &Model, choice: &mut Choice, from: usize) {
    for (k, inc) in model.incs.iter().enumerate().skip(from) {
        let left = model.capacity - choice.spent;
        if u64::from(model.min_dp[k]) > left {
            break; // Nothing from here on fits.
        }
        if choice.points[inc.class as usize] == inc.from && u64::from(inc.dp) <= left {
            choice.apply(inc);
        }
    }
}

/// The break solution plus the break increment, made to fit by undoing the last applied
/// increments (least efficient first), then refilled; `None` if it cannot be made to fit.
fn with_break(model: &Model, lp: &Relaxation, brk: usize) -> Option<Choice> {
    let mut choice = lp.choice.clone();
    choice.apply(&model.incs[brk]);
    let mut k = brk;
    while choice.spent > model.capacity {
        if k == 0 {
            return None;
        }
        k -= 1;
        let inc = &model.incs[k];
        let class = inc.class as usize;
        if choice.points[class] == inc.to {
            choice.points[class] = inc.from;
            choice.spent -= u64::from(inc.dp);
            choice.reach -= u128::from(inc.dr);
        }
    }
    refill(model, &mut choice, k);
    Some(choice)
}

/// One pass in KOL-id order: move each class to its richest point the leftover budget allows.
fn upgrade(model: &Model, choice: &mut Choice) {
    for c in 0..model.classes.len() {
        let left = model.capacity - choice.spent;
        if left < model.min_step {
            break; // No class can move up within what is left.
        }
        let frontier = model.frontier(c);
        let start = model.classes[c].start as usize;
        let current = choice.points[c] as usize - start;
        let limit = u64::from(frontier[current].price) + left;
        // The next point is the cheapest upgrade: most classes stop here.
        if frontier
            .get(current + 1)
            .is_none_or(|p| u64::from(p.price) > limit)
        {
            continue;
        }
        let best = frontier.partition_point(|p| u64::from(p.price) <= limit) - 1;
        if best > current {
            choice.switch(&model.points, c, (start + best) as u32);
        }
    }
}

/// One pass in KOL-id order: move each class to its cheapest point that keeps reach >= target.
pub(crate) fn downgrade(model: &Model, choice: &mut Choice, target: u128) {
    for c in 0..model.classes.len() {
        if choice.reach <= target {
            break;
        }
        let surplus = choice.reach - target;
        let frontier = model.frontier(c);
        let start = model.classes[c].start as usize;
        let current = choice.points[c] as usize - start;
        let needed = u128::from(frontier[current].reach).saturating_sub(surplus);
        let cheapest = frontier.partition_point(|p| u128::from(p.reach) < needed);
        if cheapest < current {
            choice.switch(&model.points, c, (start + cheapest) as u32);
        }
    }
}

/// The greedy plan reaching `target` (free-class reach) within the capacity, if it finds one.
///
/// Tries the cover greedy and the max-reach greedy plan `fallback`, each downgraded, and keeps the
/// cheaper (then the richer).
pub(crate) fn min_cost(model: &Model, target: u128, fallback: &Choice) -> Option<Choice> {
    let cover = model.cover_relaxation(target);
    let mut candidates: Vec<Choice> = Vec::with_capacity(2);
    match cover.brk {
        None if cover.cost_bound.is_some() => candidates.push(cover.choice),
        Some(k) => {
            let mut c = cover.choice;
            c.apply(&model.incs[k]);
            if c.spent <= model.capacity {
                candidates.push(c);
            }
        }
        None => {}
    }
    if fallback.reach >= target {
        candidates.push(fallback.clone());
    }
    candidates
        .into_iter()
        .map(|mut c| {
            downgrade(model, &mut c, target);
            c
        })
        .min_by(|a, b| a.spent.cmp(&b.spent).then(b.reach.cmp(&a.reach)))
}

#[cfg(test)]
mod tests {
    use kol_core::{AudienceShare, DeliverableItem, KolId, PriceThb, Reach};

    use super::*;
    use crate::problem::{Candidate, Offer, PlanRequest, Problem, Weighting};
    use crate::units::Budget;

    fn model(budget: u64, cards: &[&[(i64, i64)]]) -> Model {
        let candidates = cards
            .iter()
            .enumerate()
            .map(|(k, items)| {
                let offers = items
                    .iter()
                    .enumerate()
                    .map(|(j, &(p, r))| {
                        Offer::new(
                            DeliverableItem::new(&format!("item_{j}")).unwrap(),
                            PriceThb::new(p).unwrap(),
                            Reach::new(r).unwrap(),
                        )
                    })
                    .collect();
                Candidate::new(KolId(k as i64), AudienceShare::ALL, offers)
            })
            .collect();
        let mut req = PlanRequest::new(Budget::new(budget), candidates);
        req.weighting = Weighting::Off;
        Model::new(&Problem::new(req).unwrap())
    }

    const M: u128 = 1_000_000;

    #[test]
    fn the_best_single_item_rescues_the_fill() {
        // The efficient small item blocks the big one: fill = 2, single = 90.
        let m = model(100, &[&[(1, 2)], &[(100, 90)]]);
        let lp = m.relaxation();
        let g = max_reach(&m, &lp);
        assert_eq!((g.spent, g.reach), (100, 90 * M));
        assert!(2 * g.reach >= lp.bound);
    }

    #[test]
    fn downgrade_keeps_the_target_and_saves() {
        let m = model(100, &[&[(10, 50), (30, 80)], &[(10, 40)]]);
        let lp = m.relaxation();
        let mut c = max_reach(&m, &lp);
        assert_eq!((c.spent, c.reach), (40, 120 * M));
        downgrade(&m, &mut c, 85 * M);
        assert_eq!((c.spent, c.reach), (20, 90 * M));
        assert!(min_cost(&m, 1_000 * M, &c).is_none(), "unreachable target");
    }
}
