//! Huffman decoding of JPEG scans into DCT coefficients, sequential and progressive, with
//! restart markers: libjpeg-turbo's `jdhuff.c` and `jdphuff.c` for well-formed data.
//!
//! Where libjpeg-turbo only warns about corrupt data and carries on with made-up values (a
//! bad Huffman code, scan data cut short by a marker), this module reports the data as
//! invalid instead: Pillow refuses a truncated file too, and a picture half made of zeros is
//! not one to embed.

use super::{Component, Failure, Frame, invalid};

/// `jpeg_natural_order`: the position in an 8x8 block (row-major) of the `k`-th coefficient in
/// zigzag order, with 16 extra entries pointing at the last position, as libjpeg has them, so
/// that a corrupt run length that overshoots the block lands on coefficient 63 instead of
/// outside it.
pub(super) const NATURAL_ORDER: [usize; 64 + 16] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, //
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
];

/// Bits looked up at once when decoding a Huffman code (codes up to this long take one step).
const LOOKAHEAD: u32 = 9;

/// A Huffman table ready for decoding (libjpeg's `d_derived_tbl`).
#[derive(Clone)]
pub(super) struct HuffmanTable {
    /// For each length 1..=16, the largest code of that length, or -1 if there is none.
    max_code: [i32; 17],
    /// For each length, what to add to a code of that length to index `values`.
    val_offset: [i32; 17],
    /// The symbols, in code order.
    values: Vec<u8>,
    /// For each `LOOKAHEAD`-bit prefix: `(length << 8) | symbol` of the code it starts with,
    /// or 0 when that code is longer.
    lookup: Vec<u16>,
}

impl std::fmt::Debug for HuffmanTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HuffmanTable({} symbols)", self.values.len())
    }
}

impl HuffmanTable {
    /// Builds a table from a DHT segment's 16 code counts and its symbols, refusing what
    /// libjpeg's `jpeg_make_d_derived_tbl` refuses: more than 256 symbols, counts that
    /// overflow the code space, and (for DC tables) symbols above 15.
    pub(super) fn new(counts: &[u8; 16], values: &[u8], is_dc: bool) -> Result<Self, Failure> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || total != values.len() {
            return Err(invalid("bad Huffman table (symbol count)"));
        }
        if is_dc && values.iter().any(|&v| v > 15) {
            return Err(invalid("bad Huffman table (DC symbol above 15)"));
        }
        let mut max_code = [-1i32; 17];
        let mut val_offset = [0i32; 17];
        let mut lookup = vec![0u16; 1 << LOOKAHEAD];
        let mut code: i32 = 0;
        let mut index: usize = 0;
        for length in 1..=16usize {
            let count = usize::from(counts[length - 1]);
            if count > 0 {
                val_offset[length] = index as i32 - code;
                for _ in 0..count {
                    if length as u32 <= LOOKAHEAD {
                        // Every LOOKAHEAD-bit string starting with this code decodes to it.
                        let shift = LOOKAHEAD - length as u32;
                        let first = (code as usize) << shift;
                        let entry = ((length as u16) << 8) | u16::from(values[index]);
                        for slot in lookup.iter_mut().skip(first).take(1 << shift) {
                            *slot = entry;
                        }
                    }
                    code += 1;
                    index += 1;
                }
                max_code[length] = code - 1;
            }
            // The codes of this length must fit in `length` bits.
            if code >= 1 << length {
                return Err(invalid("bad Huffman table (code space overflow)"));
            }
            code <<= 1;
        }
        Ok(Self {
            max_code,
            val_offset,
            values: values.to_vec(),
            lookup,
        })
    }
}

/// Reads entropy-coded bits: removes the stuffed zero after each 0xFF, stops at a marker and
/// then supplies zero bits, as libjpeg does, counting them so that using any of them (data
/// cut short) is reported.
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Unread bits, most significant first.
    buffer: u64,
    count: u32,
    /// Zero bits supplied after a marker or the end of the data.
    padding: u32,
    at_marker: bool,
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            buffer: 0,
            count: 0,
            padding: 0,
            at_marker: false,
        }
    }

    /// Where the next unread byte is: at the marker that ended the data, if one was reached.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    fn fill(&mut self) {
        while self.count <= 56 {
            let byte = if self.at_marker {
                self.padding += 8;
                0
            } else {
                match self.data.get(self.pos) {
                    None => {
                        self.at_marker = true;
                        continue;
                    }
                    Some(&0xFF) => {
                        // 0xFF 0x00 is a data byte 0xFF (fill bytes 0xFF may come first);
                        // 0xFF followed by anything else is a marker, left unread.
                        let mut next = self.pos + 1;
                        while self.data.get(next) == Some(&0xFF) {
                            next += 1;
                        }
                        if self.data.get(next) == Some(&0) {
                            self.pos = next + 1;
                            0xFF
                        } else {
                            self.at_marker = true;
                            continue;
                        }
                    }
                    Some(&b) => {
                        self.pos += 1;
                        b
                    }
                }
            };
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `n` bits (1..=16) without consuming them.
    fn peek(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.fill();
        }
        (self.buffer >> (64 - n)) as u32
    }

    fn consume(&mut self, n: u32) {
        self.buffer <<= n;
        self.count -= n;
    }

    /// The next `n` bits (0..=16) as an unsigned number.
    fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let v = self.peek(n);
        self.consume(n);
        v
    }

    fn bit(&mut self) -> bool {
        self.bits(1) == 1
    }

    /// libjpeg's `HUFF_EXTEND`: `n` bits read as a signed coefficient of magnitude class `n`.
    fn signed(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        let v = self.bits(n) as i32;
        if v < 1 << (n - 1) {
            v - (1 << n) + 1
        } else {
            v
        }
    }

    fn decode(&mut self, table: &HuffmanTable) -> Result<u8, Failure> {
        let prefix = self.peek(LOOKAHEAD) as usize;
        if let Some(&entry) = table.lookup.get(prefix)
            && entry != 0
        {
            self.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        let code16 = self.peek(16) as i32;
        for length in LOOKAHEAD as usize + 1..=16 {
            let code = code16 >> (16 - length);
            if code <= table.max_code[length] {
                self.consume(length as u32);
                let index = code + table.val_offset[length];
                return usize::try_from(index)
                    .ok()
                    .and_then(|i| table.values.get(i).copied())
                    .ok_or_else(|| invalid("corrupt scan data (bad Huffman code)"));
            }
        }
        Err(invalid("corrupt scan data (bad Huffman code)"))
    }

    /// Fails if the decoding used any of the zero bits supplied past the data's end.
    fn check_not_past_end(&self) -> Result<(), Failure> {
        if self.padding > self.count {
            Err(invalid("truncated or corrupt scan data"))
        } else {
            Ok(())
        }
    }

    /// At a restart interval's end: drops the padding bits, reads the `RSTn` marker that must
    /// come next (`n` = `expected`), and starts afresh after it.
    fn restart(&mut self, expected: u8) -> Result<(), Failure> {
        self.check_not_past_end()?;
        self.buffer = 0;
        self.count = 0;
        self.padding = 0;
        self.at_marker = false;
        match super::next_marker(self.data, &mut self.pos) {
            Some(marker) if marker == 0xD0 + expected => Ok(()),
            _ => Err(invalid("corrupt scan data (missing restart marker)")),
        }
    }
}

/// One component of a scan, with the Huffman tables it names.
pub(super) struct ScanComponent<'t> {
    /// Index into the frame's components.
    pub(super) index: usize,
    pub(super) dc: Option<&'t HuffmanTable>,
    pub(super) ac: Option<&'t HuffmanTable>,
}

/// A scan's header: its components and what part of the coefficients it carries.
pub(super) struct Scan<'t> {
    pub(super) components: Vec<ScanComponent<'t>>,
    /// First and last coefficient (zigzag order) of the spectral band.
    pub(super) ss: usize,
    pub(super) se: usize,
    /// Successive approximation: previous and current bit position.
    pub(super) ah: u32,
    pub(super) al: u32,
    /// MCUs between restart markers, 0 for none.
    pub(super) restart_interval: usize,
}

/// What kind of decoding a scan needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Sequential,
    DcFirst,
    DcRefine,
    AcFirst,
    AcRefine,
}

fn table(t: Option<&HuffmanTable>) -> Result<&HuffmanTable, Failure> {
    // Motion-JPEG frames leave out their Huffman tables and rely on the standard ones, which
    // libjpeg-turbo supplies; that case is left to the fallback decoder.
    t.ok_or_else(|| Failure::Unsupported("a scan uses an undefined Huffman table".to_owned()))
}

/// Decodes one scan whose entropy-coded data starts at `start`, adding what it carries to the
/// components' coefficients. Returns the position after the data (at the next marker).
pub(super) fn decode_scan(
    data: &[u8],
    start: usize,
    frame: &mut Frame,
    scan: &Scan<'_>,
) -> Result<usize, Failure> {
    let pass = if !frame.progressive {
        Pass::Sequential
    } else {
        match (scan.ss == 0, scan.ah == 0) {
            (true, true) => Pass::DcFirst,
            (true, false) => Pass::DcRefine,
            (false, true) => Pass::AcFirst,
            (false, false) => Pass::AcRefine,
        }
    };
    // Tables the pass reads must exist.
    for sc in &scan.components {
        if matches!(pass, Pass::Sequential | Pass::DcFirst) {
            table(sc.dc)?;
        }
        if matches!(pass, Pass::Sequential | Pass::AcFirst | Pass::AcRefine) {
            table(sc.ac)?;
        }
    }
    let mut reader = BitReader::new(data, start);
    let mut dc_pred = vec![0i32; scan.components.len()];
    let mut eob_run: u32 = 0;
    let (mcus_x, mcus_y) = if scan.components.len() == 1 {
        let c = &frame.components[scan.components[0].index];
        (c.width_in_blocks, c.height_in_blocks)
    } else {
        (frame.mcus_x, frame.mcus_y)
    };
    let total = mcus_x * mcus_y;
    let mut next_restart: u8 = 0;
    for mcu in 0..total {
        if scan.restart_interval > 0 && mcu > 0 && mcu % scan.restart_interval == 0 {
            reader.restart(next_restart)?;
            next_restart = (next_restart + 1) & 7;
            dc_pred.fill(0);
            eob_run = 0;
        }
        let (mx, my) = (mcu % mcus_x, mcu / mcus_x);
        for (slot, sc) in scan.components.iter().enumerate() {
            let component = &mut frame.components[sc.index];
            let (bw, bh) = if scan.components.len() == 1 {
                (1, 1)
            } else {
                (component.h, component.v)
            };
            for by in 0..bh {
                for bx in 0..bw {
                    let block = component.block_mut(mx * bw + bx, my * bh + by)?;
                    match pass {
                        Pass::Sequential => {
                            decode_dc_first(&mut reader, sc, &mut dc_pred[slot], 0, block)?;
                            decode_ac_sequential(&mut reader, sc, block)?;
                        }
                        Pass::DcFirst => {
                            decode_dc_first(&mut reader, sc, &mut dc_pred[slot], scan.al, block)?;
                        }
                        Pass::DcRefine => {
                            if reader.bit() {
                                block[0] |= 1 << scan.al;
                            }
                        }
                        Pass::AcFirst => {
                            decode_ac_first(&mut reader, sc, scan, &mut eob_run, block)?;
                        }
                        Pass::AcRefine => {
                            decode_ac_refine(&mut reader, sc, scan, &mut eob_run, block)?;
                        }
                    }
                }
            }
        }
        // Stop at the first MCU that needed bits past the data's end rather than decoding
        // the rest of a large frame from zero bits.
        reader.check_not_past_end()?;
    }
    Ok(reader.position())
}

fn decode_dc_first(
    reader: &mut BitReader<'_>,
    sc: &ScanComponent<'_>,
    pred: &mut i32,
    al: u32,
    block: &mut [i16; 64],
) -> Result<(), Failure> {
    let s = u32::from(reader.decode(table(sc.dc)?)?);
    let diff = reader.signed(s);
    *pred = pred
        .checked_add(diff)
        .ok_or_else(|| invalid("corrupt scan data (DC coefficient overflow)"))?;
    // libjpeg stores the coefficient in a 16-bit JCOEF, keeping the low bits.
    block[0] = (*pred as u32).wrapping_shl(al) as i16;
    Ok(())
}

fn decode_ac_sequential(
    reader: &mut BitReader<'_>,
    sc: &ScanComponent<'_>,
    block: &mut [i16; 64],
) -> Result<(), Failure> {
    let ac = table(sc.ac)?;
    let mut k = 1;
    while k < 64 {
        let rs = reader.decode(ac)?;
        let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
        if size != 0 {
            k += run;
            let v = reader.signed(size);
            block[NATURAL_ORDER[k.min(NATURAL_ORDER.len() - 1)]] = v as i16;
        } else if run != 15 {
            break;
        } else {
            k += 15;
        }
        k += 1;
    }
    Ok(())
}

fn decode_ac_first(
    reader: &mut BitReader<'_>,
    sc: &ScanComponent<'_>,
    scan: &Scan<'_>,
    eob_run: &mut u32,
    block: &mut [i16; 64],
) -> Result<(), Failure> {
    if *eob_run > 0 {
        *eob_run -= 1;
        return Ok(());
    }
    let ac = table(sc.ac)?;
    let mut k = scan.ss;
    while k <= scan.se {
        let rs = reader.decode(ac)?;
        let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
        if size != 0 {
            k += run as usize;
            let v = reader.signed(size);
            block[NATURAL_ORDER[k.min(NATURAL_ORDER.len() - 1)]] =
                (v as u32).wrapping_shl(scan.al) as i16;
        } else if run == 15 {
            k += 15;
        } else {
            *eob_run = (1 << run) + reader.bits(run) - 1;
            break;
        }
        k += 1;
    }
    Ok(())
}

/// Adds a correction bit to a coefficient already known to be nonzero (libjpeg's rule: only
/// if that bit is not set yet, away from zero).
fn refine(reader: &mut BitReader<'_>, coef: &mut i16, p1: i16, m1: i16) {
    if reader.bit() && (*coef & p1) == 0 {
        *coef = if *coef >= 0 {
            coef.wrapping_add(p1)
        } else {
            coef.wrapping_add(m1)
        };
    }
}

fn decode_ac_refine(
    reader: &mut BitReader<'_>,
    sc: &ScanComponent<'_>,
    scan: &Scan<'_>,
    eob_run: &mut u32,
    block: &mut [i16; 64],
) -> Result<(), Failure> {
    let p1: i16 = 1 << scan.al;
    let m1: i16 = -1 << scan.al;
    let last = NATURAL_ORDER.len() - 1;
    let mut k = scan.ss;
    if *eob_run == 0 {
        let ac = table(sc.ac)?;
        while k <= scan.se {
            let rs = reader.decode(ac)?;
            let mut run = i32::from(rs >> 4);
            let size = rs & 15;
            let mut value: i16 = 0;
            if size != 0 {
                // libjpeg warns when size is not 1 and reads one sign bit all the same.
                value = if reader.bit() { p1 } else { m1 };
            } else if run != 15 {
                *eob_run = (1 << run) + reader.bits(run as u32);
                break;
            }
            // Skip over already-nonzero coefficients (refining each) and `run` zero ones.
            while k <= scan.se {
                let coef = &mut block[NATURAL_ORDER[k]];
                if *coef != 0 {
                    refine(reader, coef, p1, m1);
                } else {
                    run -= 1;
                    if run < 0 {
                        break;
                    }
                }
                k += 1;
            }
            if value != 0 {
                block[NATURAL_ORDER[k.min(last)]] = value;
            }
            k += 1;
        }
    }
    if *eob_run > 0 {
        while k <= scan.se {
            let coef = &mut block[NATURAL_ORDER[k]];
            if *coef != 0 {
                refine(reader, coef, p1, m1);
            }
            k += 1;
        }
        *eob_run -= 1;
    }
    Ok(())
}

impl Component {
    /// The coefficients of block `(bx, by)`, in natural (row-major) order.
    fn block_mut(&mut self, bx: usize, by: usize) -> Result<&mut [i16; 64], Failure> {
        let start = (by * self.blocks_w + bx) * 64;
        self.coefficients
            .get_mut(start..start + 64)
            .and_then(|s| <&mut [i16; 64]>::try_from(s).ok())
            .ok_or_else(|| invalid("scan addresses a block outside the picture"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_is_a_permutation_with_a_clamped_tail() {
        let mut seen = [false; 64];
        for &p in &NATURAL_ORDER[..64] {
            assert!(!seen[p]);
            seen[p] = true;
        }
        assert!(NATURAL_ORDER[64..].iter().all(|&p| p == 63));
    }

    #[test]
    fn huffman_tables_are_validated_like_libjpeg() {
        // Three codes of length 1 do not fit in one bit.
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(HuffmanTable::new(&counts, &[1, 2, 3], false).is_err());
        // Nor do two (a code may not be all ones).
        counts[0] = 2;
        assert!(HuffmanTable::new(&counts, &[1, 2], false).is_err());
        // Counts and symbols must agree.
        counts[0] = 0;
        counts[1] = 2;
        assert!(HuffmanTable::new(&counts, &[1], false).is_err());
        // DC symbols are magnitude classes, at most 15.
        assert!(HuffmanTable::new(&counts, &[1, 16], true).is_err());
        assert!(HuffmanTable::new(&counts, &[1, 16], false).is_ok());
    }

    #[test]
    fn codes_decode_with_and_without_the_lookup_table() {
        // Canonical codes: 'a' = 0, 'b' = 10, then eleven 1-bits prefix a 12-bit code 'c'.
        let mut counts = [0u8; 16];
        counts[0] = 1; // 0
        counts[1] = 1; // 10
        counts[11] = 1; // 110000000000
        let t = HuffmanTable::new(&counts, b"abc", false).unwrap();
        // Bits: 0 | 10 | 110000000000 | 0 then padding 1s: 0101 1000 0000 0000 0111 1111
        let data = [0b0101_1000, 0b0000_0000, 0b0111_1111, 0xFF, 0xD9];
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.decode(&t).unwrap(), b'a');
        assert_eq!(r.decode(&t).unwrap(), b'b');
        assert_eq!(r.decode(&t).unwrap(), b'c');
        assert_eq!(r.decode(&t).unwrap(), b'a');
        r.check_not_past_end().unwrap();
        // The reader stopped at the EOI marker.
        assert_eq!(r.position(), 3);
    }

    #[test]
    fn stuffed_bytes_are_data_and_reading_past_a_marker_is_caught() {
        let data = [0xFF, 0x00, 0xAB, 0xFF, 0xD9];
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.bits(16), 0xFFAB);
        r.check_not_past_end().unwrap();
        assert_eq!(r.bits(8), 0);
        assert!(r.check_not_past_end().is_err());
    }

    #[test]
    fn extend_gives_signed_values() {
        // Class 3: 000 -> -7, 011 -> -4, 100 -> 4, 111 -> 7.
        let data = [0b0000_1110, 0b0111_1100, 0, 0];
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.signed(3), -7);
        assert_eq!(r.signed(3), -4);
        assert_eq!(r.signed(3), 4);
        assert_eq!(r.signed(3), 7);
    }
}
