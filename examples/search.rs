//! `search`: nearest neighbours of `.npy` query vectors among `.npy` data vectors, as JSON.
//!
//! ```text
//! cargo run --release -p kol-examples --example search -- --data EMB.npy --queries Q.npy \
//!     [--k 10] [--mode exact|ivf] [--lists L] [--probes P] [--metric cosine|l2|ip] [--seed S]
//! ```
//!
//! Writes `{"results": [{"ids": [...], "distances": [...]}, ...]}` (one entry per query; ids are
//! 0-based data rows). Bad input: exit code 2 and one line on standard error. The logic lives
//! in `kol_examples::search`, where it is tested.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use kol_examples::search::{SearchArgs, run};

fn main() -> ExitCode {
    let args = match SearchArgs::try_parse() {
        Ok(args) => args,
        Err(e) if e.use_stderr() => {
            // clap's message, on one line (its usage hints follow on the next lines).
            let rendered = e.render().to_string();
            eprintln!(
                "{}",
                rendered
                    .lines()
                    .next()
                    .unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            // --help or --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(&args) {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            let written = serde_json::to_writer(&mut stdout, &output)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(stdout));
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the results: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
