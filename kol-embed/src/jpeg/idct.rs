//! The inverse DCT libjpeg-turbo uses by default (`JDCT_ISLOW`, `jidctint.c`): a separable
//! integer transform with 13-bit constants and 2 extra bits between the passes, whose
//! rounding this reproduces exactly.

const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

const FIX_0_298631336: i64 = 2446;
const FIX_0_390180644: i64 = 3196;
const FIX_0_541196100: i64 = 4433;
const FIX_0_765366865: i64 = 6270;
const FIX_0_899976223: i64 = 7373;
const FIX_1_175875602: i64 = 9633;
const FIX_1_501321110: i64 = 12299;
const FIX_1_847759065: i64 = 15137;
const FIX_1_961570560: i64 = 16069;
const FIX_2_053119869: i64 = 16819;
const FIX_2_562915447: i64 = 20995;
const FIX_3_072711026: i64 = 25172;

/// libjpeg's `DESCALE`: divide by `2^n`, rounding half up (arithmetic shift).
fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// libjpeg's post-IDCT range limit (`IDCT_range_limit` indexed with `& RANGE_MASK`): the
/// output is taken modulo 1024 as a signed 10-bit value, shifted by 128 and clamped to a byte.
/// Values within -512..512 (all that well-formed data produces) are simply clamped.
fn range_limit(x: i64) -> u8 {
    let v = (x & 1023) as i32;
    let signed = if v >= 512 { v - 1024 } else { v };
    (signed + 128).clamp(0, 255) as u8
}

/// The odd and even halves shared by both passes; `c` holds the 8 inputs of one column or
/// row (already dequantized in the first pass). Returns `[tmp10, tmp11, tmp12, tmp13, tmp0,
/// tmp1, tmp2, tmp3]` as `jpeg_idct_islow` names them.
fn butterfly(c: [i64; 8]) -> [i64; 8] {
    // Even part.
    let (z2, z3) = (c[2], c[6]);
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (c[0] + c[4]) << CONST_BITS;
    let tmp1 = (c[0] - c[4]) << CONST_BITS;
    let (tmp10, tmp13) = (tmp0 + tmp3, tmp0 - tmp3);
    let (tmp11, tmp12) = (tmp1 + tmp2, tmp1 - tmp2);
    // Odd part.
    let (mut t0, mut t1, mut t2, mut t3) = (c[7], c[5], c[3], c[1]);
    let mut z1 = t0 + t3;
    let mut z2 = t1 + t2;
    let mut z3 = t0 + t2;
    let mut z4 = t1 + t3;
    let z5 = (z3 + z4) * FIX_1_175875602;
    t0 *= FIX_0_298631336;
    t1 *= FIX_2_053119869;
    t2 *= FIX_3_072711026;
    t3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 *= -FIX_1_961570560;
    z4 *= -FIX_0_390180644;
    z3 += z5;
    z4 += z5;
    t0 += z1 + z3;
    t1 += z2 + z4;
    t2 += z2 + z3;
    t3 += z1 + z4;
    [tmp10, tmp11, tmp12, tmp13, t0, t1, t2, t3]
}

/// Inverse-transforms one block of quantized coefficients (natural order) with its quantization
/// table (natural order) into 8x8 samples written to `out` (`stride` bytes per row).
///
/// The dequantization multiplies 16-bit values as libjpeg-turbo's SIMD builds (Pillow's) store
/// them: a quantization value above 32767 is taken as negative, as in those builds.
pub(super) fn idct_islow(
    coefficients: &[i16; 64],
    quant: &[u16; 64],
    out: &mut [u8],
    stride: usize,
) {
    let dequantize = |i: usize| -> i64 { i64::from(coefficients[i]) * i64::from(quant[i] as i16) };
    if coefficients[1..].iter().all(|&c| c == 0) {
        // Only the DC term (common in smooth areas): both passes' shortcuts apply to every
        // column and row, so the block is flat.
        let dc = (dequantize(0) << PASS1_BITS) as i32;
        let value = range_limit(descale(i64::from(dc), PASS1_BITS + 3));
        for row in out.chunks_mut(stride).take(8) {
            row[..8].fill(value);
        }
        return;
    }
    let mut workspace = [0i32; 64];
    // Pass 1: columns, results scaled up by 2^PASS1_BITS.
    for col in 0..8 {
        if (1..8).all(|row| coefficients[row * 8 + col] == 0) {
            // Only the DC term: every output is the same (libjpeg truncates it to an int).
            let dc = (dequantize(col) << PASS1_BITS) as i32;
            for row in 0..8 {
                workspace[row * 8 + col] = dc;
            }
            continue;
        }
        let c: [i64; 8] = std::array::from_fn(|row| dequantize(row * 8 + col));
        let [tmp10, tmp11, tmp12, tmp13, t0, t1, t2, t3] = butterfly(c);
        let shift = CONST_BITS - PASS1_BITS;
        let outputs = [
            tmp10 + t3,
            tmp11 + t2,
            tmp12 + t1,
            tmp13 + t0,
            tmp13 - t0,
            tmp12 - t1,
            tmp11 - t2,
            tmp10 - t3,
        ];
        for (row, v) in outputs.into_iter().enumerate() {
            workspace[row * 8 + col] = descale(v, shift) as i32;
        }
    }
    // Pass 2: rows, descaled by 8 and 2^PASS1_BITS, range-limited to bytes.
    for row in 0..8 {
        let w = &workspace[row * 8..row * 8 + 8];
        let line = &mut out[row * stride..row * stride + 8];
        if w[1..].iter().all(|&v| v == 0) {
            line.fill(range_limit(descale(i64::from(w[0]), PASS1_BITS + 3)));
            continue;
        }
        let c: [i64; 8] = std::array::from_fn(|i| i64::from(w[i]));
        let [tmp10, tmp11, tmp12, tmp13, t0, t1, t2, t3] = butterfly(c);
        let shift = CONST_BITS + PASS1_BITS + 3;
        let outputs = [
            tmp10 + t3,
            tmp11 + t2,
            tmp12 + t1,
            tmp13 + t0,
            tmp13 - t0,
            tmp12 - t1,
            tmp11 - t2,
            tmp10 - t3,
        ];
        for (x, v) in outputs.into_iter().enumerate() {
            line[x] = range_limit(descale(v, shift));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_libjpegs_fixed_point_values() {
        let fix = |x: f64| (x * f64::from(1u32 << CONST_BITS) + 0.5) as i64;
        assert_eq!(FIX_0_298631336, fix(0.298631336));
        assert_eq!(FIX_0_390180644, fix(0.390180644));
        assert_eq!(FIX_0_541196100, fix(0.541196100));
        assert_eq!(FIX_0_765366865, fix(0.765366865));
        assert_eq!(FIX_0_899976223, fix(0.899976223));
        assert_eq!(FIX_1_175875602, fix(1.175875602));
        assert_eq!(FIX_1_501321110, fix(1.501321110));
        assert_eq!(FIX_1_847759065, fix(1.847759065));
        assert_eq!(FIX_1_961570560, fix(1.961570560));
        assert_eq!(FIX_2_053119869, fix(2.053119869));
        assert_eq!(FIX_2_562915447, fix(2.562915447));
        assert_eq!(FIX_3_072711026, fix(3.072711026));
    }

    #[test]
    fn a_dc_only_block_is_flat() {
        let mut coefficients = [0i16; 64];
        let quant = [1u16; 64];
        let mut out = [0u8; 64];
        // DC 80 -> 80 / 8 = 10 above mid-grey.
        coefficients[0] = 80;
        idct_islow(&coefficients, &quant, &mut out, 8);
        assert!(out.iter().all(|&v| v == 138), "{out:?}");
        // Dequantization multiplies by the table; the result saturates at 255 and 0.
        coefficients[0] = -5;
        let quant = [200u16; 64];
        idct_islow(&coefficients, &quant, &mut out, 8);
        assert!(out.iter().all(|&v| v == 3), "{out:?}"); // -1000 / 8 = -125 -> 3
        coefficients[0] = 10;
        idct_islow(&coefficients, &quant, &mut out, 8);
        assert!(out.iter().all(|&v| v == 255), "{out:?}");
    }

    #[test]
    fn the_range_limit_wraps_like_libjpegs_table() {
        assert_eq!(range_limit(0), 128);
        assert_eq!(range_limit(-128), 0);
        assert_eq!(range_limit(127), 255);
        assert_eq!(range_limit(300), 255);
        assert_eq!(range_limit(-300), 0);
        // Beyond +-512 the table wraps around (only corrupt data gets there).
        assert_eq!(range_limit(1024), 128);
    }

    #[test]
    fn a_horizontal_cosine_gives_a_symmetric_ramp() {
        // Coefficient (0, 1): a half-cosine across the row, the same on every row.
        let mut coefficients = [0i16; 64];
        coefficients[1] = 100;
        let mut out = [0u8; 64];
        idct_islow(&coefficients, &[1u16; 64], &mut out, 8);
        let row = &out[..8];
        assert!(row.windows(2).all(|w| w[0] > w[1]), "{row:?}");
        // Antisymmetric about mid-grey, up to rounding half up.
        for x in 0..4 {
            let sum = i32::from(row[x]) + i32::from(row[7 - x]) - 256;
            assert!((0..=1).contains(&sum), "{row:?}");
        }
        assert!(out.chunks(8).all(|r| r == row));
    }
}
