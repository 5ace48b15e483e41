//! ISO 3166-1 alpha-2 country codes.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Every officially assigned ISO 3166-1 alpha-2 code (249), sorted, two letters each.
const ASSIGNED: &str = "\
ADAEAFAGAIALAMAOAQARASATAUAWAXAZ\
BABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ\
CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ\
DEDJDKDMDODZ\
ECEEEGEHERESET\
FIFJFKFMFOFR\
GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY\
HKHMHNHRHTHU\
IDIEILIMINIOIQIRISIT\
JEJMJOJP\
KEKGKHKIKMKNKPKRKWKYKZ\
LALBLCLILKLRLSLTLULVLY\
MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ\
NANCNENFNGNINLNONPNRNUNZ\
OM\
PAPEPFPGPHPKPLPMPNPRPSPTPWPY\
QA\
RERORSRURW\
SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ\
TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ\
UAUGUMUSUYUZ\
VAVCVEVGVIVNVU\
WFWS\
YEYT\
ZAZMZW";

/// A country, as an officially assigned ISO 3166-1 alpha-2 code (`TH`, `US`, `JP`...).
///
/// Invariant: two upper-case ASCII letters from the assigned list. Parsing trims and upper-cases,
/// so `"th"` is `TH`; unassigned or reserved codes such as `UK` (the code is `GB`) are errors.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Thailand, the home market of the platform.
    pub const TH: Self = Self(*b"TH");

    /// Parses a code.
    ///
    /// # Errors
    /// [`CoreError::UnknownCountry`] unless the trimmed, upper-cased input is an assigned code.
    pub fn new(code: &str) -> Result<Self> {
        let unknown = || CoreError::UnknownCountry {
            input: code.to_owned(),
        };
        let upper = code.trim().to_ascii_uppercase();
        let bytes: [u8; 2] = upper.as_bytes().try_into().map_err(|_| unknown())?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(unknown());
        }
        let assigned = ASSIGNED.as_bytes().chunks_exact(2).any(|c| c == bytes);
        if assigned {
            Ok(Self(bytes))
        } else {
            Err(unknown())
        }
    }

    /// Every assigned code, sorted.
    pub fn all() -> impl Iterator<Item = Self> {
        ASSIGNED
            .as_bytes()
            .chunks_exact(2)
            .map(|c| Self([c[0], c[1]]))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl std::fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl std::fmt::Display for CountryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CountryCode {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for CountryCode {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<CountryCode> for String {
    fn from(c: CountryCode) -> Self {
        c.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_complete_and_sorted() {
        let all: Vec<_> = CountryCode::all().collect();
        assert_eq!(all.len(), 249);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        for c in &all {
            assert_eq!(CountryCode::new(c.as_str()).unwrap(), *c);
        }
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(CountryCode::new(" th ").unwrap(), CountryCode::TH);
        for bad in ["UK", "XX", "T", "THA", "", "T1", "ประเทศ"] {
            assert!(
                matches!(CountryCode::new(bad), Err(CoreError::UnknownCountry { .. })),
                "{bad}"
            );
        }
    }
}
