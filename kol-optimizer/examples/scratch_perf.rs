#![allow(clippy::unwrap_used)]
use kol_optimizer::instances::*;
use kol_optimizer::*;
use std::time::Instant;
fn run(name: &str, req: PlanRequest) {
    let p = Problem::new(req).unwrap();
    let t = Instant::now();
    let e = p
        .exact(&ExactOptions {
            work_limit: 100_000_000,
            on_work_limit: OnWorkLimit::BestSoFar,
        })
        .unwrap();
    let te = t.elapsed();
    println!(
        "{name:40} items {:8} exact {:>10.1?} {} gap {:.1e}",
        p.item_count(),
        te,
        e.mode,
        e.gap
    );
}
fn main() {
    for n in [1_000, 10_000] {
        for f in KnapsackFamily::ALL {
            run(
                &format!("kp {} n={n} R=1000", f.name()),
                knapsack(f, n, 1000, 50, 100, 1),
            );
        }
    }
    for (n, k) in [(1_000, 10), (2_000, 10), (5_000, 10), (10_000, 10)] {
        for r in [1000, 10000] {
            run(
                &format!("mckp strong {n}x{k} R={r}"),
                mckp(MckpFamily::StronglyCorrelated, n, k, r, 1),
            );
        }
    }
    for n in [1_000, 10_000, 100_000] {
        run(&format!("thai {n}"), thai_market(n, 0.1, 1));
    }
}
