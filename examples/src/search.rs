//! The `search` command-line example: nearest neighbours of `.npy` query vectors among `.npy`
//! data vectors, exact or through an IVF index, as JSON.
//!
//! ```text
//! cargo run --release -p kol-examples --example search -- \
//!     --data EMB.npy --queries Q.npy [--k 10] [--mode exact|ivf] [--lists L] [--probes P] \
//!     [--metric cosine|l2|ip] [--seed S]
//! ```
//!
//! Both files hold 2-D `float32` arrays, one vector per row (NumPy: `np.save("EMB.npy",
//! x.astype(np.float32))`). The output is `{"results": [{"ids": [...], "distances": [...]}]}`,
//! one entry per query, `ids` being 0-based row numbers of the data file, nearest first, ties by
//! row number. Distances are pgvector's (`<=>`, `<->`, `<#>`). Bad input gives exit code 2 and
//! one line on standard error.

use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use kol_vector::{AnyKol, EmbeddingMatrix, Hit, IvfIndex, IvfParams, Metric, Query, VectorError};
use ndarray::{Array2, Ix2};
use serde::Serialize;

use crate::npy::NpyError;

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Compare each query with every row (exact).
    Exact,
    /// Scan only the `probes` nearest k-means lists of an IVF-flat index (approximate).
    Ivf,
}

/// The metric names accepted on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricArg {
    /// Cosine distance, pgvector's `<=>`.
    Cosine,
    /// Euclidean distance, pgvector's `<->`.
    L2,
    /// Negative inner product, pgvector's `<#>`.
    Ip,
}

impl From<MetricArg> for Metric {
    fn from(m: MetricArg) -> Self {
        match m {
            MetricArg::Cosine => Metric::Cosine,
            MetricArg::L2 => Metric::L2,
            MetricArg::Ip => Metric::NegativeInnerProduct,
        }
    }
}

/// Nearest neighbours of query vectors among data vectors (`.npy`, float32, one vector per
/// row), printed as JSON.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "search",
    version,
    about = "Nearest neighbours of .npy query vectors among .npy data vectors, as JSON (pgvector distances)",
    long_about = None
)]
pub struct SearchArgs {
    /// Data vectors: a 2-D float32 `.npy` file, one row per vector.
    #[arg(long, value_name = "EMB.npy")]
    pub data: PathBuf,
    /// Query vectors: a 2-D float32 `.npy` file with as many columns as the data.
    #[arg(long, value_name = "Q.npy")]
    pub queries: PathBuf,
    /// Number of neighbours per query (fewer when the data has fewer rows).
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Exact search, or an IVF-flat index like pgvector's ivfflat.
    #[arg(long, value_enum, default_value_t = Mode::Exact)]
    pub mode: Mode,
    /// IVF: number of lists [default: rows / 1000 (sqrt(rows) above 1M rows), at least 1].
    #[arg(long)]
    pub lists: Option<usize>,
    /// IVF: lists scanned per query [default: sqrt(lists), rounded up].
    #[arg(long)]
    pub probes: Option<usize>,
    /// Distance to rank by.
    #[arg(long, value_enum, default_value_t = MetricArg::Cosine)]
    pub metric: MetricArg,
    /// IVF: seed of the training sample and of k-means++.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The JSON document printed on standard output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchOutput {
    /// One entry per query, in the order of the queries file.
    pub results: Vec<QueryResult>,
}

/// The neighbours of one query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryResult {
    /// 0-based row numbers in the data file, nearest first.
    pub ids: Vec<usize>,
    /// Their distances to the query.
    pub distances: Vec<f64>,
}

/// Why a search could not run. Every variant is bad input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A file could not be read as a 2-D float32 `.npy` array.
    #[error("{role} file {path}: {reason}")]
    File {
        /// `"data"` or `"queries"`.
        role: &'static str,
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The two files do not have the same number of columns.
    #[error("queries have {queries} columns but the data rows have {data}")]
    DimensionMismatch {
        /// Columns of the data file.
        data: usize,
        /// Columns of the queries file.
        queries: usize,
    },
    /// An option is out of range or does not apply.
    #[error("{0}")]
    Usage(String),
    /// The search library refused the input.
    #[error("{0}")]
    Vector(#[from] VectorError),
}

impl SearchError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// Largest `.npy` file the example reads: 4 GiB of float32 values (a million 1,024-d vectors).
/// Larger (or larger-claiming) files are refused before anything is allocated.
pub const MAX_VECTOR_FILE_BYTES: u64 = 4 << 30;

/// Reads a 2-D float32 `.npy` file, checking its header against the file's size and
/// [`MAX_VECTOR_FILE_BYTES`] before allocating ([`crate::npy`]).
///
/// # Errors
/// [`SearchError::File`] naming the file and the problem (missing file, not `.npy`, wrong
/// dtype, wrong number of dimensions, truncated data, more data than the limit).
pub fn read_vectors(path: &Path, role: &'static str) -> Result<Array2<f32>, SearchError> {
    let file_error = |reason: String| SearchError::File {
        role,
        path: path.display().to_string(),
        reason,
    };
    crate::npy::read_f32::<Ix2>(path, MAX_VECTOR_FILE_BYTES).map_err(|e| {
        file_error(match e {
            NpyError::Ndim { found, .. } => {
                format!("expected a 2-D array (one vector per row), found {found}-D")
            }
            other => other.to_string(),
        })
    })
}

/// Runs a search as the command line describes.
///
/// # Errors
/// [`SearchError`] for bad files (dtype, shape, NaN or infinite values, zero vectors), a
/// dimension mismatch, `k = 0`, IVF options out of range (`lists` above the number of rows,
/// `probes` above `lists`, either 0) or IVF options without `--mode ivf`.
pub fn run(args: &SearchArgs) -> Result<SearchOutput, SearchError> {
    if args.k == 0 {
        return Err(SearchError::Usage("k must be at least 1".to_owned()));
    }
    if args.mode == Mode::Exact && (args.lists.is_some() || args.probes.is_some()) {
        return Err(SearchError::Usage(
            "--lists and --probes apply only to --mode ivf".to_owned(),
        ));
    }
    let data = read_vectors(&args.data, "data")?;
    let queries = read_vectors(&args.queries, "queries")?;
    if data.nrows() == 0 {
        return Err(file_error(args, "data", "it has no rows".to_owned()));
    }
    if queries.ncols() != data.ncols() {
        return Err(SearchError::DimensionMismatch {
            data: data.ncols(),
            queries: queries.ncols(),
        });
    }
    let rows = data.nrows();
    let matrix =
        EmbeddingMatrix::from_rows(data).map_err(|e| file_error(args, "data", e.to_string()))?;
    let metric = Metric::from(args.metric);
    // Check the queries before any (possibly long) index build; errors name the file.
    Query::from_rows(queries.view()).map_err(|e| file_error(args, "queries", e.to_string()))?;
    let hits = match args.mode {
        Mode::Exact => matrix
            .exact(metric)
            .search_batch(queries.view(), args.k, &AnyKol)?,
        Mode::Ivf => {
            let lists = args
                .lists
                .unwrap_or_else(|| IvfParams::suggested_lists(rows));
            if lists == 0 || lists > rows {
                return Err(VectorError::InvalidLists { lists, rows }.into());
            }
            let probes = args
                .probes
                .unwrap_or_else(|| (lists as f64).sqrt().ceil() as usize);
            if probes == 0 || probes > lists {
                return Err(VectorError::InvalidProbes { probes, lists }.into());
            }
            let params = IvfParams::new(lists, metric).with_seed(args.seed);
            let index = IvfIndex::build(matrix, params)?;
            index
                .with_probes(probes)?
                .search_batch(queries.view(), args.k, &AnyKol)?
        }
    };
    Ok(SearchOutput {
        results: hits.iter().map(|h| to_result(h)).collect(),
    })
}

fn file_error(args: &SearchArgs, role: &'static str, reason: String) -> SearchError {
    let path = if role == "data" {
        &args.data
    } else {
        &args.queries
    };
    SearchError::File {
        role,
        path: path.display().to_string(),
        reason,
    }
}

fn to_result(hits: &[Hit]) -> QueryResult {
    QueryResult {
        // Media ids are the row numbers of the data file (`EmbeddingMatrix::from_rows`).
        ids: hits.iter().map(|h| h.media_id.get() as usize).collect(),
        distances: hits.iter().map(|h| h.distance).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, array};
    use ndarray_npy::write_npy;

    /// A scratch directory removed at the end of the test.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("kol-search-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn args(data: &Path, queries: &Path, extra: &[&str]) -> SearchArgs {
        let mut argv = vec![
            "search".to_owned(),
            "--data".to_owned(),
            data.display().to_string(),
            "--queries".to_owned(),
            queries.display().to_string(),
        ];
        argv.extend(extra.iter().map(|s| (*s).to_owned()));
        SearchArgs::try_parse_from(argv).unwrap()
    }

    fn data() -> Array2<f32> {
        array![
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [1.0, 1.0, 0.0],
            [1.0, 0.0, 0.0],
            [-1.0, 0.0, 0.0],
        ]
    }

    /// Runs with `extra` options and returns the error line, checking it is one line.
    fn error_line(dir: &Scratch, data: &Path, queries: &Path, extra: &[&str]) -> String {
        let _ = dir;
        let err = run(&args(data, queries, extra)).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let line = err.to_string();
        assert!(!line.contains('\n'), "{line}");
        line
    }

    #[test]
    fn exact_results_are_row_numbers_by_distance_then_row() {
        let dir = Scratch::new("exact");
        let (d, q) = (dir.file("d.npy"), dir.file("q.npy"));
        write_npy(&d, &data()).unwrap();
        write_npy(&q, &array![[2.0f32, 0.1, 0.0], [0.0, 0.0, 3.0]]).unwrap();
        let out = run(&args(&d, &q, &["--k", "3"])).unwrap();
        assert_eq!(out.results.len(), 2);
        // Rows 0 and 4 are the same vector: tie broken by row number.
        assert_eq!(out.results[0].ids, vec![0, 4, 3]);
        assert_eq!(out.results[0].distances[0], out.results[0].distances[1]);
        for (r, query) in out
            .results
            .iter()
            .zip([[2.0f32, 0.1, 0.0], [0.0, 0.0, 3.0]])
        {
            for (&id, &dist) in r.ids.iter().zip(&r.distances) {
                let row = data().row(id).to_vec();
                assert_eq!(dist, kol_vector::cosine_distance(&row, &query).unwrap());
            }
        }
        let l2 = run(&args(&d, &q, &["--k", "2", "--metric", "l2"])).unwrap();
        assert_eq!(l2.results[1].ids, vec![2, 0]);
        let json = serde_json::to_string(&out).unwrap();
        assert!(
            json.starts_with(r#"{"results":[{"ids":[0,4,3],"distances":["#),
            "{json}"
        );
        // k larger than the data: every row once.
        let all = run(&args(&d, &q, &["--k", "50"])).unwrap();
        assert_eq!(all.results[0].ids.len(), 6);
    }

    #[test]
    fn ivf_with_every_list_probed_is_exact() {
        let dir = Scratch::new("ivf");
        let (d, q) = (dir.file("d.npy"), dir.file("q.npy"));
        write_npy(&d, &data()).unwrap();
        write_npy(&q, &array![[2.0f32, 0.1, 0.0], [0.0, 0.5, 3.0]]).unwrap();
        let exact = run(&args(&d, &q, &["--k", "4"])).unwrap();
        let ivf = run(&args(
            &d,
            &q,
            &["--k", "4", "--mode", "ivf", "--lists", "3", "--probes", "3"],
        ))
        .unwrap();
        assert_eq!(exact, ivf);
        // Defaults: lists = 1 for 6 rows, probes = 1.
        let default = run(&args(&d, &q, &["--k", "4", "--mode", "ivf"])).unwrap();
        assert_eq!(exact, default);
    }

    #[test]
    fn bad_input_is_one_clear_line() {
        let dir = Scratch::new("errors");
        let (d, q) = (dir.file("d.npy"), dir.file("q.npy"));
        write_npy(&d, &data()).unwrap();
        write_npy(&q, &array![[1.0f32, 0.0, 0.0]]).unwrap();

        let f64_file = dir.file("f64.npy");
        write_npy(&f64_file, &array![[1.0f64, 2.0, 3.0]]).unwrap();
        let line = error_line(&dir, &f64_file, &q, &[]);
        assert!(
            line.contains("data file") && line.contains("float32") && line.contains("<f8"),
            "{line}"
        );

        let cube = dir.file("cube.npy");
        write_npy(&cube, &Array3::<f32>::ones((2, 2, 3))).unwrap();
        let line = error_line(&dir, &d, &cube, &[]);
        assert!(
            line.contains("queries file") && line.contains("2-D") && line.contains("3-D"),
            "{line}"
        );

        let nan = dir.file("nan.npy");
        write_npy(&nan, &array![[1.0f32, 0.0, 0.0], [0.0, f32::NAN, 1.0]]).unwrap();
        let line = error_line(&dir, &nan, &q, &[]);
        assert!(line.contains("row 1") && line.contains("NaN"), "{line}");
        let line = error_line(&dir, &d, &nan, &[]);
        assert!(
            line.contains("queries file") && line.contains("query 1"),
            "{line}"
        );

        let zero = dir.file("zero.npy");
        write_npy(&zero, &array![[0.0f32, 0.0, 0.0]]).unwrap();
        assert!(error_line(&dir, &zero, &q, &[]).contains("zero norm"));

        let wide = dir.file("wide.npy");
        write_npy(&wide, &array![[1.0f32, 0.0, 0.0, 0.0]]).unwrap();
        let line = error_line(&dir, &d, &wide, &[]);
        assert_eq!(line, "queries have 4 columns but the data rows have 3");

        let empty = dir.file("empty.npy");
        write_npy(&empty, &Array2::<f32>::zeros((0, 3))).unwrap();
        assert!(error_line(&dir, &empty, &q, &[]).contains("no rows"));

        assert!(error_line(&dir, &dir.file("missing.npy"), &q, &[]).contains("cannot read"));
        let junk = dir.file("junk.npy");
        std::fs::write(&junk, b"not an npy file").unwrap();
        assert!(error_line(&dir, &junk, &q, &[]).contains("not a valid .npy file"));

        assert_eq!(
            error_line(&dir, &d, &q, &["--k", "0"]),
            "k must be at least 1"
        );
        assert_eq!(
            error_line(
                &dir,
                &d,
                &q,
                &["--mode", "ivf", "--lists", "2", "--probes", "3"]
            ),
            "probes must be between 1 and lists (2), got 3"
        );
        assert_eq!(
            error_line(&dir, &d, &q, &["--mode", "ivf", "--lists", "7"]),
            "lists must be between 1 and the number of rows (6), got 7"
        );
        assert_eq!(
            error_line(&dir, &d, &q, &["--probes", "1"]),
            "--lists and --probes apply only to --mode ivf"
        );
        assert!(SearchArgs::try_parse_from(["search", "--data", "d.npy"]).is_err());
    }
}
