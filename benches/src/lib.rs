//! Shared helpers of the benchmarks.

/// Command-line handling of the plain (non-criterion) bench binaries, `import` and `search`.
///
/// `cargo bench` passes `--bench`; test runners that list or run every target pass other flags
/// (`--list`, ...). These binaries are benchmarks, not tests, so without `--bench` they do
/// nothing. Returns `Ok(None)` then, after a hint on standard error (except for `--list`), and
/// otherwise the first argument that is not a flag, parsed as a count, or `default`.
///
/// # Errors
/// The count argument is not a number.
pub fn bench_count_arg(
    name: &str,
    default: usize,
) -> Result<Option<usize>, std::num::ParseIntError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        if !args.iter().any(|a| a == "--list") {
            eprintln!(
                "{name}: a benchmark; run it with `cargo bench -p kol-benches --bench {name}`"
            );
        }
        return Ok(None);
    }
    args.iter()
        .find(|a| !a.starts_with("--"))
        .map_or(Ok(default), |a| a.parse())
        .map(Some)
}
