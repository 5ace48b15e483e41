//! `.npy` inputs of the examples: headers that claim more data than the file holds, or more than
//! the examples accept, are refused with exit code 2 before anything is allocated. On the old
//! code these files made the process abort on a petabyte allocation, failing this binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use clap::Parser;
use kol_examples::campaign::{CampaignError, read_brief_npy};
use kol_examples::search::{SearchArgs, run};

/// A scratch directory removed at the end of the test.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kol-npy-it-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Writes a `.npy` version 1.0 file: header `dict` padded to 128 bytes, then `data`.
    fn npy(&self, name: &str, dict: &str, data: &[u8]) -> PathBuf {
        let mut header = dict.to_owned();
        while !(10 + header.len() + 1).is_multiple_of(128) {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PETABYTE_1D: &str = "{'descr': '<f4', 'fortran_order': False, 'shape': (250000000000000,), }";
const PETABYTE_2D: &str =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (488281250000, 512), }";

fn search_error(data: &Path, queries: &Path) -> (u8, String) {
    let args = SearchArgs::try_parse_from([
        "search",
        "--data",
        data.to_str().unwrap(),
        "--queries",
        queries.to_str().unwrap(),
    ])
    .unwrap();
    let err = run(&args).unwrap_err();
    (err.exit_code(), err.to_string())
}

#[test]
fn a_128_byte_file_claiming_a_petabyte_is_refused() {
    let dir = Scratch::new("petabyte");
    for (name, dict) in [("one.npy", PETABYTE_1D), ("two.npy", PETABYTE_2D)] {
        let path = dir.npy(name, dict, &[]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 128);

        let err = read_brief_npy(&path).unwrap_err();
        assert!(matches!(err, CampaignError::Usage(_)), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(name) && message.contains("expected one 512-value vector"),
            "{message}"
        );

        let fine = dir.npy(
            "q.npy",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }",
            &1f32.to_le_bytes(),
        );
        let (code, message) = search_error(&path, &fine);
        assert_eq!(code, 2);
        let expected = if name == "two.npy" {
            "over the limit"
        } else {
            "expected a 2-D array"
        };
        assert!(
            message.contains("data file") && message.contains(expected),
            "{message}"
        );
        let (code, message) = search_error(&fine, &path);
        assert_eq!(code, 2);
        assert!(message.contains("queries file"), "{message}");
    }
}

/// A sparse file really as large as its header says, but over the search example's cap: refused
/// before reading.
#[test]
fn a_file_over_the_cap_is_refused_even_when_its_size_matches() {
    let dir = Scratch::new("sparse");
    let rows: u64 = 1 << 25; // x 512 values x 4 bytes = 64 GiB
    let path = dir.npy(
        "big.npy",
        &format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, 512), }}"),
        &[],
    );
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(128 + rows * 512 * 4).unwrap();
    drop(file);
    let (code, message) = search_error(&path, &path);
    assert_eq!(code, 2);
    assert!(message.contains("over the limit"), "{message}");
}
