//! Plans a campaign budget from a JSON request: which item of which KOL to book.
//!
//! ```text
//! cargo run --release -p kol-examples --example optimize -- [--mode greedy|exact] [--work-limit N] [INPUT.json]
//! cargo run --release -p kol-examples --example optimize -- --frontier --chart frontier.svg request.json
//! ```
//!
//! Reads the request from INPUT.json, or standard input when no file is given, and writes the
//! plan as JSON on standard output. The formats are documented in `kol_examples::optimize`.
//! `--frontier` prints the budget frontier (budget, reach, upper bound, gap, marginal reach)
//! instead of the plan; `--chart FILE.svg` writes it as a chart, the request's budget marked.
//! Exit status: 0 with a plan, 2 for invalid input or usage (one line on standard error naming
//! the offending field), 1 when the exact search stops at its work limit with `--strict`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kol_examples::chart::{frontier_svg, frontier_table};
use kol_examples::optimize::{RequestError, render, solve, solve_with_frontier};
use kol_optimizer::{ExactOptions, Method, OnWorkLimit, OptimizerError};

/// Plans a campaign budget from a JSON request (see `kol_examples::optimize` for the format).
#[derive(Debug, Parser)]
#[command(name = "optimize")]
struct Args {
    /// How to solve: greedy (fast, proven bound) or exact (proven optimum, work limit).
    #[arg(long, value_name = "greedy|exact", default_value = "greedy", value_parser = ["greedy", "exact"])]
    mode: String,
    /// Work limit of the exact search (states; nodes with side constraints).
    #[arg(long, value_name = "STATES")]
    work_limit: Option<u64>,
    /// Exit with status 1 when the exact search stops at its work limit.
    #[arg(long)]
    strict: bool,
    /// Print the budget frontier as a table (with marginal reach) instead of the plan.
    #[arg(long)]
    frontier: bool,
    /// Write the budget frontier as an SVG chart to this file.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// Largest budget of the frontier, in THB (default: twice the request's budget).
    #[arg(long, value_name = "THB")]
    frontier_max: Option<u64>,
    /// Budget points of the frontier.
    #[arg(long, value_name = "N", default_value_t = 21, value_parser = clap::value_parser!(u16).range(1..=1000))]
    frontier_points: u16,
    /// The request (standard input when absent).
    #[arg(value_name = "INPUT.json")]
    input: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}

fn run(args: &Args) -> Result<String, (u8, String)> {
    let mut options = ExactOptions::default();
    if let Some(limit) = args.work_limit {
        options.work_limit = limit;
    }
    if args.strict {
        options.on_work_limit = OnWorkLimit::Error;
    }
    let method = match args.mode.as_str() {
        "exact" => Method::Exact(options),
        _ => Method::Greedy,
    };
    let text = match &args.input {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| (2, format!("cannot read {}: {e}", path.display())))?,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| (2, format!("cannot read standard input: {e}")))?;
            s
        }
    };
    let failed = |e: RequestError| match e {
        RequestError::Invalid(e @ OptimizerError::WorkLimit { .. }) => (1, e.to_string()),
        e => (2, e.to_string()),
    };
    if !args.frontier && args.chart.is_none() {
        return solve(&text, method)
            .map(|plan| render(&plan))
            .map_err(failed);
    }
    let (plan, frontier) = solve_with_frontier(
        &text,
        method,
        args.frontier_max,
        usize::from(args.frontier_points),
    )
    .map_err(failed)?;
    if let Some(path) = &args.chart {
        let title = format!(
            "Effective reach by budget ({} plans, {} creators booked at {} THB)",
            plan.mode,
            plan.selections.len(),
            plan.spent + plan.remaining
        );
        let svg = frontier_svg(&frontier, Some(plan.spent + plan.remaining), &title);
        std::fs::write(path, svg)
            .map_err(|e| (2, format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(if args.frontier {
        frontier_table(&frontier)
    } else {
        render(&plan)
    })
}
