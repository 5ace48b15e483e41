//! Plans a campaign budget from a JSON request: which item of which KOL to book.
//!
//! ```text
//! cargo run --release -p kol-examples --example optimize -- [--mode greedy|exact] [--work-limit N] [INPUT.json]
//! ```
//!
//! Reads the request from INPUT.json, or standard input when no file is given, and writes the
//! plan as JSON on standard output. The formats are documented in `kol_examples::optimize`.
//! Exit status: 0 with a plan, 2 for invalid input or usage (one line on standard error naming
//! the offending field), 1 when the exact search stops at its work limit with `--strict`.

use std::io::Read;
use std::process::ExitCode;

use kol_examples::optimize::{RequestError, render, solve};
use kol_optimizer::{ExactOptions, Method, OnWorkLimit, OptimizerError};

const USAGE: &str =
    "usage: optimize [--mode greedy|exact] [--work-limit STATES] [--strict] [INPUT.json]";

fn main() -> ExitCode {
    match run() {
        Ok(plan) => {
            print!("{plan}");
            ExitCode::SUCCESS
        }
        Err((0, help)) => {
            println!("{help}");
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}

fn run() -> Result<String, (u8, String)> {
    let usage = |m: &str| (2, format!("{m}\n{USAGE}"));
    let mut mode = "greedy".to_owned();
    let mut options = ExactOptions::default();
    let mut input: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mode" => mode = args.next().ok_or_else(|| usage("--mode needs a value"))?,
            "--work-limit" => {
                let v = args
                    .next()
                    .ok_or_else(|| usage("--work-limit needs a value"))?;
                options.work_limit = v
                    .parse()
                    .map_err(|_| usage(&format!("--work-limit: not a whole number: {v:?}")))?;
            }
            "--strict" => options.on_work_limit = OnWorkLimit::Error,
            "-h" | "--help" => return Err((0, USAGE.to_owned())),
            flag if flag.starts_with("--") => return Err(usage(&format!("unknown option {flag}"))),
            path if input.is_none() => input = Some(path.to_owned()),
            extra => return Err(usage(&format!("unexpected argument {extra:?}"))),
        }
    }
    let method = match mode.as_str() {
        "greedy" => Method::Greedy,
        "exact" => Method::Exact(options),
        other => {
            return Err(usage(&format!(
                "--mode: expected greedy or exact, got {other:?}"
            )));
        }
    };
    let text = match &input {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| (2, format!("cannot read {path}: {e}")))?
        }
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| (2, format!("cannot read standard input: {e}")))?;
            s
        }
    };
    match solve(&text, method) {
        Ok(plan) => Ok(render(&plan)),
        Err(RequestError::Invalid(e @ OptimizerError::WorkLimit { .. })) => Err((1, e.to_string())),
        Err(e) => Err((2, e.to_string())),
    }
}
