//! A small, dependency-free SVG chart of a budget frontier: effective reach against budget, the
//! proven upper bound as a band above the plans, the LP envelope dashed, the chosen budget marked.
//!
//! Pure: [`frontier_svg`] turns a [`Frontier`] into SVG text (900 x 600 user units, system
//! fonts), the same bytes for the same frontier; the examples write it with `--chart FILE.svg`.

use std::fmt::Write as _;

use kol_optimizer::Frontier;

const W: f64 = 900.0;
const H: f64 = 600.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 70.0;

/// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over `span`.
fn nice_step(span: f64, count: f64) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / count;
    let power = 10f64.powf(raw.log10().floor());
    let unit = raw / power;
    let m = if unit <= 1.0 {
        1.0
    } else if unit <= 2.0 {
        2.0
    } else if unit <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * power
}

/// A compact number: `950`, `12k`, `1.5M`.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = if (x - x.round()).abs() < 0.05 {
        format!("{:.0}", x)
    } else {
        format!("{:.1}", x)
    };
    format!("{text}{suffix}")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The frontier as an SVG document. `chosen` marks one budget (the plan the user asked for);
/// `title` heads the chart.
pub fn frontier_svg(f: &Frontier, chosen: Option<u64>, title: &str) -> String {
    let x_min = f.points.first().map_or(0, |p| p.budget) as f64;
    let x_max = f.points.last().map_or(1, |p| p.budget) as f64;
    let x_max = if x_max > x_min { x_max } else { x_min + 1.0 };
    let y_top = f
        .points
        .iter()
        .map(|p| p.plan.upper_bound.people().max(p.envelope.people()))
        .fold(0.0f64, f64::max);
    let y_step = nice_step(y_top.max(1.0), 6.0);
    let y_max = (y_top / y_step).ceil().max(1.0) * y_step;
    let x_step = nice_step(x_max - x_min, 8.0);

    let px = |b: f64| LEFT + (b - x_min) / (x_max - x_min) * (W - LEFT - RIGHT);
    let py = |r: f64| H - BOTTOM - r / y_max * (H - TOP - BOTTOM);

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="13">
<rect width="{W}" height="{H}" fill="#ffffff"/>
<text x="{}" y="32" font-size="18" font-weight="bold" text-anchor="middle" fill="#222">{}</text>
"##,
        W / 2.0,
        escape(title)
    );
    // Grid and ticks.
    let mut y = 0.0;
    while y <= y_max + y_step / 2.0 {
        let yy = py(y);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
            W - RIGHT,
            LEFT - 8.0,
            yy + 4.0,
            compact(y)
        );
        y += y_step;
    }
    let mut x = (x_min / x_step).ceil() * x_step;
    while x <= x_max + x_step / 1e6 {
        let xx = px(x);
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#eeeeee"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 20.0,
            compact(x)
        );
        x += x_step;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#333"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b:.1}" stroke="#333"/>
<text x="{cx:.1}" y="{:.1}" text-anchor="middle" fill="#222">Budget (THB)</text>
<text transform="translate(24 {cy:.1}) rotate(-90)" text-anchor="middle" fill="#222">Effective reach (people)</text>"##,
        H - 20.0,
        b = H - BOTTOM,
        r = W - RIGHT,
        cx = (LEFT + W - RIGHT) / 2.0,
        cy = (TOP + H - BOTTOM) / 2.0,
    );

    // The band: between each plan's reach and its proven upper bound.
    if !f.points.is_empty() {
        let mut band = String::new();
        for p in &f.points {
            let _ = write!(
                band,
                "{:.1},{:.1} ",
                px(p.budget as f64),
                py(p.plan.upper_bound.people())
            );
        }
        for p in f.points.iter().rev() {
            let _ = write!(
                band,
                "{:.1},{:.1} ",
                px(p.budget as f64),
                py(p.plan.total_effective_reach.people())
            );
        }
        let _ = writeln!(
            s,
            r##"<polygon points="{}" fill="#f4a261" fill-opacity="0.35" stroke="none"/>"##,
            band.trim_end()
        );
    }
    // The LP envelope, dashed.
    let env: Vec<String> = f
        .envelope
        .iter()
        .filter(|b| (b.budget as f64) >= x_min && (b.budget as f64) <= x_max)
        .map(|b| format!("{:.1},{:.1}", px(b.budget as f64), py(b.reach.people())))
        .collect();
    if env.len() >= 2 {
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#9c6644" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
            env.join(" ")
        );
    }
    // The plans.
    let line: Vec<String> = f
        .points
        .iter()
        .map(|p| {
            format!(
                "{:.1},{:.1}",
                px(p.budget as f64),
                py(p.plan.total_effective_reach.people())
            )
        })
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1d4e89" stroke-width="2.5"/>"##,
        line.join(" ")
    );
    for p in &f.points {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#1d4e89"/>"##,
            px(p.budget as f64),
            py(p.plan.total_effective_reach.people())
        );
    }
    // The chosen budget.
    if let Some(b) = chosen {
        let nearest = f.points.iter().min_by_key(|p| p.budget.abs_diff(b));
        if let Some(p) = nearest {
            let (cx, cy) = (px(b as f64), py(p.plan.total_effective_reach.people()));
            let anchor = if cx > W * 0.7 { "end" } else { "start" };
            let dx = if anchor == "end" { -8.0 } else { 8.0 };
            let _ = writeln!(
                s,
                r##"<line x1="{cx:.1}" y1="{TOP}" x2="{cx:.1}" y2="{:.1}" stroke="#c1121f" stroke-width="1.5" stroke-dasharray="4 3"/>
<circle cx="{cx:.1}" cy="{cy:.1}" r="6" fill="#c1121f"/>
<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="#c1121f" font-weight="bold" stroke="#ffffff" stroke-width="4" paint-order="stroke">chosen: {} THB, {} people</text>"##,
                H - BOTTOM,
                cx + dx,
                (cy - 12.0).max(TOP + 14.0),
                compact(b as f64),
                compact(p.plan.total_effective_reach.people())
            );
        }
    }
    // Legend, bottom right inside the plot.
    let (lx, ly) = (W - RIGHT - 290.0, H - BOTTOM - 86.0);
    let _ = writeln!(
        s,
        r##"<rect x="{lx}" y="{ly}" width="280" height="76" fill="#ffffff" fill-opacity="0.9" stroke="#cccccc"/>
<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#1d4e89" stroke-width="2.5"/><text x="{}" y="{}" fill="#222">plan (effective reach)</text>
<rect x="{}" y="{}" width="28" height="12" fill="#f4a261" fill-opacity="0.35"/><text x="{}" y="{}" fill="#222">up to the proven upper bound</text>
<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#9c6644" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{}" y="{}" fill="#222">LP envelope (every budget)</text>"##,
        lx + 10.0,
        ly + 18.0,
        lx + 38.0,
        ly + 18.0,
        lx + 46.0,
        ly + 22.0,
        lx + 10.0,
        ly + 32.0,
        lx + 46.0,
        ly + 43.0,
        lx + 10.0,
        ly + 60.0,
        lx + 38.0,
        ly + 60.0,
        lx + 46.0,
        ly + 64.0,
    );
    s.push_str("</svg>\n");
    s
}

/// The frontier as a text table: budget, reach, upper bound, gap, marginal reach.
pub fn frontier_table(f: &Frontier) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>12}  {:>14}  {:>14}  {:>7}  {:>14}  {:>14}",
        "budget_thb", "reach", "upper_bound", "gap_%", "marginal_reach", "lp_envelope"
    );
    for p in &f.points {
        let marginal = p
            .marginal_reach
            .map_or_else(|| "-".to_owned(), |m| format!("{m:+.0}"));
        let _ = writeln!(
            s,
            "{:>12}  {:>14.0}  {:>14.0}  {:>7.3}  {:>14}  {:>14.0}",
            p.budget,
            p.plan.total_effective_reach.people(),
            p.plan.upper_bound.people(),
            p.plan.gap * 100.0,
            marginal,
            p.envelope.people()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use kol_optimizer::instances::thai_market;
    use kol_optimizer::{Budget, Method, Problem};

    #[test]
    fn ticks_and_numbers_read_well() {
        assert_eq!(nice_step(1_000_000.0, 8.0), 200_000.0);
        assert_eq!(nice_step(37.0, 6.0), 10.0);
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(12_000.0), "12k");
        assert_eq!(compact(1_500_000.0), "1.5M");
    }

    #[test]
    fn the_chart_has_axes_band_and_the_chosen_budget() {
        let req = thai_market(200, 0.3, 5);
        let max = req.budget.get();
        let p = Problem::new(req).unwrap();
        let f = p
            .frontier(Budget::new(0), Budget::new(max), 11, Method::Greedy)
            .unwrap();
        let svg = frontier_svg(&f, Some(max / 2), "Reach <by> budget");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("Budget (THB)") && svg.contains("Effective reach (people)"));
        assert!(svg.contains("<polygon") && svg.contains("chosen:"));
        assert!(svg.contains("Reach &lt;by&gt; budget"));
        assert_eq!(svg, frontier_svg(&f, Some(max / 2), "Reach <by> budget"));
        let table = frontier_table(&f);
        assert_eq!(table.lines().count(), 12);
    }
}
