//! Reading float32 `.npy` files safely: the header's dtype and shape are checked against the
//! file's size and a cap before anything is allocated, so a small file claiming a huge array is
//! refused with an error instead of aborting the process on allocation.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use ndarray::{Array, Dimension};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyError, ReadNpyExt};

/// The magic string that starts every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Largest header accepted, in bytes. NumPy itself refuses headers over 10,000 bytes by default
/// (`max_header_size`); this leaves room for hand-written ones.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024;

/// Bytes of one float32 value.
const F32_BYTES: u64 = 4;

/// Why a `.npy` file was refused. Every variant is bad input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The file could not be opened or read.
    #[error("cannot read it: {0}")]
    Io(#[source] std::io::Error),
    /// The file is not a valid `.npy` file (magic string, version, header).
    #[error("not a valid .npy file ({0})")]
    Header(String),
    /// The values are not float32.
    #[error("expected float32 values, found dtype {found}")]
    Dtype {
        /// The header's `descr`.
        found: String,
    },
    /// The array does not have the number of dimensions the caller reads.
    #[error("expected a {expected}-D array, found {found}-D")]
    Ndim {
        /// Dimensions the caller reads.
        expected: usize,
        /// Dimensions the header declares.
        found: usize,
    },
    /// The array the header declares is larger than the caller accepts.
    #[error(
        "the header declares shape {shape:?}, {bytes} bytes of data, over the limit of {limit} bytes"
    )]
    TooLarge {
        /// The declared shape.
        shape: Vec<usize>,
        /// Bytes of data that shape needs (saturated at `u128::MAX`).
        bytes: u128,
        /// The caller's limit.
        limit: u64,
    },
    /// The file does not hold exactly the data its header declares.
    #[error(
        "the header declares shape {shape:?}, {expected} bytes of data, but the file holds {actual} bytes after the header ({})",
        if u128::from(*actual) < *expected { "truncated" } else { "unexpected bytes after the data" }
    )]
    SizeMismatch {
        /// The declared shape.
        shape: Vec<usize>,
        /// Bytes of data the header declares.
        expected: u128,
        /// Bytes the file holds after the header.
        actual: u64,
    },
}

/// A `.npy` header, checked against its file: float32 data, exactly the file's size, at most the
/// caller's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedHeader {
    /// The declared shape.
    pub shape: Vec<usize>,
}

/// Reads and checks the header of the float32 `.npy` file `file` (positioned at its start) of
/// `file_len` bytes, with `ndim` dimensions when given and at most `max_data_bytes` bytes of
/// values. Allocates at most the header's size (itself capped at [`MAX_HEADER_BYTES`]).
///
/// # Errors
/// [`NpyError`] for an unreadable or invalid header, a dtype other than float32, another number
/// of dimensions, a declared size over `max_data_bytes`, or a declared size that is not exactly
/// what the file holds (checked in that order).
pub fn check_header(
    file: &mut impl Read,
    file_len: u64,
    ndim: Option<usize>,
    max_data_bytes: u64,
) -> Result<CheckedHeader, NpyError> {
    let invalid = |why: &str| NpyError::Header(why.to_owned());
    // Magic (6 bytes), version (2), header length (2 bytes in version 1, 4 in versions 2 and 3).
    let mut prefix = [0u8; 12];
    let short = || invalid("the file is shorter than a .npy header");
    file.read_exact(&mut prefix[..10]).map_err(|_| short())?;
    if &prefix[..6] != MAGIC {
        return Err(invalid("it does not start with the .npy magic string"));
    }
    let (prefix_len, header_len) = match prefix[6] {
        1 => (10u64, u64::from(u16::from_le_bytes([prefix[8], prefix[9]]))),
        2 | 3 => {
            file.read_exact(&mut prefix[10..12]).map_err(|_| short())?;
            let len = u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]);
            (12u64, u64::from(len))
        }
        v => return Err(NpyError::Header(format!("unknown format version {v}"))),
    };
    if header_len > MAX_HEADER_BYTES {
        return Err(NpyError::Header(format!(
            "its header claims {header_len} bytes, more than the {MAX_HEADER_BYTES} accepted"
        )));
    }
    let header_end = prefix_len + header_len;
    if header_end > file_len {
        return Err(invalid("the header is truncated"));
    }
    // Bounded by MAX_HEADER_BYTES and by the file's size.
    let mut bytes = Vec::with_capacity(header_end as usize);
    bytes.extend_from_slice(&prefix[..prefix_len as usize]);
    file.take(header_len)
        .read_to_end(&mut bytes)
        .map_err(NpyError::Io)?;
    let header =
        Header::from_reader(&mut bytes.as_slice()).map_err(|e| NpyError::Header(e.to_string()))?;
    match header.type_descriptor.as_string().map(String::as_str) {
        Some("<f4" | ">f4") => {}
        _ => {
            return Err(NpyError::Dtype {
                found: header.type_descriptor.to_string(),
            });
        }
    }
    let shape = header.shape;
    if let Some(expected) = ndim
        && shape.len() != expected
    {
        return Err(NpyError::Ndim {
            expected,
            found: shape.len(),
        });
    }
    let bytes = shape
        .iter()
        .try_fold(u128::from(F32_BYTES), |acc, &d| acc.checked_mul(d as u128))
        .unwrap_or(u128::MAX);
    if bytes > u128::from(max_data_bytes) {
        return Err(NpyError::TooLarge {
            shape,
            bytes,
            limit: max_data_bytes,
        });
    }
    let actual = file_len - header_end;
    if bytes != u128::from(actual) {
        return Err(NpyError::SizeMismatch {
            shape,
            expected: bytes,
            actual,
        });
    }
    Ok(CheckedHeader { shape })
}

/// Reads a float32 `.npy` file of `D` dimensions holding at most `max_data_bytes` bytes of
/// values. The header is checked first ([`check_header`]), so the array allocated is never
/// larger than the data the file holds, nor than the limit.
///
/// # Errors
/// [`NpyError`]: unreadable file, invalid header, dtype other than float32, wrong number of
/// dimensions, declared size over the limit or different from the file's.
pub fn read_f32<D: Dimension>(path: &Path, max_data_bytes: u64) -> Result<Array<f32, D>, NpyError> {
    let mut file = File::open(path).map_err(NpyError::Io)?;
    let file_len = file.metadata().map_err(NpyError::Io)?.len();
    check_header(&mut file, file_len, D::NDIM, max_data_bytes)?;
    file.rewind().map_err(NpyError::Io)?;
    Array::<f32, D>::read_npy(BufReader::new(file)).map_err(|e| match e {
        ReadNpyError::Io(io) => NpyError::Io(io),
        // The header was checked; a file changed since then is what remains.
        other => NpyError::Header(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, Ix1, Ix2, array};
    use ndarray_npy::write_npy;

    /// A `.npy` version 1.0 file: header dictionary `dict`, padded to 128 bytes, then `data`.
    pub(crate) fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.to_owned();
        while !(10 + header.len() + 1).is_multiple_of(128) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn check(bytes: &[u8], limit: u64) -> Result<CheckedHeader, NpyError> {
        check_header(&mut &bytes[..], bytes.len() as u64, None, limit)
    }

    #[test]
    fn a_petabyte_header_is_refused_before_allocating() {
        let bytes = npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000,), }",
            &[],
        );
        assert_eq!(bytes.len(), 128);
        let err = check(&bytes, u64::MAX).unwrap_err();
        assert!(
            matches!(err, NpyError::SizeMismatch { expected, actual: 0, .. } if expected == 4_000_000_000_000_000),
            "{err}"
        );
        assert!(err.to_string().contains("truncated"), "{err}");
        // Within the file's size but over the caller's limit.
        let err = check(&bytes, 1 << 30).unwrap_err();
        assert!(matches!(err, NpyError::TooLarge { .. }), "{err}");
        // A shape whose size overflows every integer type.
        let bytes = npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 18446744073709551615, 18446744073709551615), }",
            &[],
        );
        let err = check(&bytes, u64::MAX).unwrap_err();
        assert!(
            matches!(
                err,
                NpyError::TooLarge {
                    bytes: u128::MAX,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn header_fields_are_checked() {
        let f8 = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,), }",
            &[],
        );
        assert!(matches!(check(&f8, u64::MAX), Err(NpyError::Dtype { .. })));
        let ok = npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
            &[0; 8],
        );
        assert_eq!(check(&ok, 8).unwrap().shape, [2]);
        assert!(matches!(
            check_header(&mut &ok[..], ok.len() as u64, Some(2), 8),
            Err(NpyError::Ndim {
                expected: 2,
                found: 1
            })
        ));
        assert!(matches!(check(&ok, 7), Err(NpyError::TooLarge { .. })));
        let extra = npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
            &[0; 9],
        );
        let err = check(&extra, 1024).unwrap_err();
        assert!(err.to_string().contains("unexpected bytes"), "{err}");
        assert!(matches!(
            check(b"\x93NUMPY", 1024),
            Err(NpyError::Header(_))
        ));
        assert!(matches!(
            check(b"not an npy file", 1024),
            Err(NpyError::Header(_))
        ));
        // A header length over the cap is refused before the header is read.
        let mut huge_header = MAGIC.to_vec();
        huge_header.extend_from_slice(&[2, 0]);
        huge_header.extend_from_slice(&u32::MAX.to_le_bytes());
        let err = check(&huge_header, 1024).unwrap_err();
        assert!(err.to_string().contains("header claims"), "{err}");
        let mut version = ok.clone();
        version[6] = 9;
        assert!(matches!(check(&version, 1024), Err(NpyError::Header(_))));
    }

    #[test]
    fn files_round_trip_and_dimensions_are_checked() {
        let dir = std::env::temp_dir().join(format!("kol-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.npy");
        let m = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        write_npy(&path, &m).unwrap();
        let back: Array2<f32> = read_f32::<Ix2>(&path, 1024).unwrap();
        assert_eq!(back, m);
        assert!(matches!(
            read_f32::<Ix1>(&path, 1024),
            Err(NpyError::Ndim {
                expected: 1,
                found: 2
            })
        ));
        assert!(matches!(
            read_f32::<Ix2>(&path, 23),
            Err(NpyError::TooLarge { .. })
        ));
        let v: Array1<f32> = array![1.0, 2.0];
        write_npy(&path, &v).unwrap();
        assert_eq!(read_f32::<Ix1>(&path, 8).unwrap(), v);
        assert!(matches!(
            read_f32::<Ix1>(&dir.join("missing.npy"), 8),
            Err(NpyError::Io(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
