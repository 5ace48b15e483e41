//! Chroma upsampling and YCbCr to RGB conversion as libjpeg-turbo does them by default
//! (`jdsample.c` with `do_fancy_upsampling`, `jdcolor.c`): the triangle ("fancy") filter for
//! 2:1 ratios with its alternating rounding, replication for other integral ratios and for
//! planes two samples wide or less, edges extended by repeating the last real sample, and the
//! 16-bit fixed-point colour tables.

/// A decoded component plane: `stride` samples a row, of which the first `width` (and the first
/// `height` rows) are real; the rest is block padding.
pub(super) struct Plane<'a> {
    pub(super) samples: &'a [u8],
    pub(super) stride: usize,
    pub(super) width: usize,
    pub(super) height: usize,
}

impl Plane<'_> {
    fn row(&self, y: usize) -> &[u8] {
        let start = y * self.stride;
        &self.samples[start..start + self.width]
    }
}

/// Upsamples one plane by `h_expand x v_expand` (each a whole number), an output row at a
/// time, cropping the last sample of an odd-sized picture as libjpeg does.
pub(super) struct Upsampler<'a> {
    plane: Plane<'a>,
    h_expand: usize,
    v_expand: usize,
    /// libjpeg filters 2:1 ratios, and horizontally only planes wider than two samples.
    fancy_h: bool,
    /// A full upsampled row (one sample more than the output when its width is odd).
    line: Vec<u8>,
    colsum: Vec<i32>,
}

impl<'a> Upsampler<'a> {
    pub(super) fn new(plane: Plane<'a>, h_expand: usize, v_expand: usize) -> Self {
        let fancy_h = h_expand == 2 && plane.width > 2;
        Self {
            line: vec![0; plane.width * h_expand],
            colsum: vec![0; plane.width],
            plane,
            h_expand,
            v_expand,
            fancy_h,
        }
    }

    /// Writes output row `y` into `out` (the output width, at most the plane's width times
    /// `h_expand`; `y` below its height times `v_expand`).
    pub(super) fn row(&mut self, y: usize, out: &mut [u8]) {
        let plane = &self.plane;
        match (self.h_expand, self.v_expand) {
            (1, 1) => out.copy_from_slice(&plane.row(y)[..out.len()]),
            (1, 2) => {
                // h1v2: 3/4 of the nearer row, 1/4 of the further one; bias 1 above, 2 below.
                let (near, far, bias) = vertical_neighbours(plane, y);
                for ((o, &n), &f) in out.iter_mut().zip(near).zip(far) {
                    *o = ((i32::from(n) * 3 + i32::from(f) + bias) >> 2) as u8;
                }
            }
            (2, 2) if self.fancy_h => {
                let (near, far, _) = vertical_neighbours(plane, y);
                for ((c, &n), &f) in self.colsum.iter_mut().zip(near).zip(far) {
                    *c = i32::from(n) * 3 + i32::from(f);
                }
                h2v2_row(&self.colsum, &mut self.line);
                out.copy_from_slice(&self.line[..out.len()]);
            }
            (2, 1) if self.fancy_h => {
                h2v1_row(plane.row(y), &mut self.line);
                out.copy_from_slice(&self.line[..out.len()]);
            }
            (h, v) => {
                let src = plane.row(y / v);
                for (x, o) in out.iter_mut().enumerate() {
                    *o = src[x / h];
                }
            }
        }
    }
}

/// For output row `y` of a 2:1 vertical upsampling: the nearer input row, the further one
/// (above for even rows, below for odd ones, the edge row repeated past the edges) and the
/// rounding bias libjpeg's h1v2 filter uses for that parity.
fn vertical_neighbours<'p>(plane: &'p Plane<'_>, y: usize) -> (&'p [u8], &'p [u8], i32) {
    let i = y / 2;
    if y % 2 == 0 {
        (plane.row(i), plane.row(i.saturating_sub(1)), 1)
    } else {
        (plane.row(i), plane.row((i + 1).min(plane.height - 1)), 2)
    }
}

/// libjpeg-turbo's `h2v1_fancy_upsample` for one row of at least 3 samples.
fn h2v1_row(input: &[u8], out: &mut [u8]) {
    let n = input.len();
    let v = |i: usize| i32::from(input[i]);
    out[0] = input[0];
    out[1] = ((v(0) * 3 + v(1) + 2) >> 2) as u8;
    for i in 1..n - 1 {
        let here = v(i) * 3;
        out[2 * i] = ((here + v(i - 1) + 1) >> 2) as u8;
        out[2 * i + 1] = ((here + v(i + 1) + 2) >> 2) as u8;
    }
    out[2 * n - 2] = ((v(n - 1) * 3 + v(n - 2) + 1) >> 2) as u8;
    out[2 * n - 1] = input[n - 1];
}

/// libjpeg-turbo's `h2v2_fancy_upsample` for one output row, from the column sums
/// `3 * nearer row + further row` (at least 3 of them).
fn h2v2_row(colsum: &[i32], out: &mut [u8]) {
    let n = colsum.len();
    out[0] = ((colsum[0] * 4 + 8) >> 4) as u8;
    out[1] = ((colsum[0] * 3 + colsum[1] + 7) >> 4) as u8;
    for i in 1..n - 1 {
        let here = colsum[i] * 3;
        out[2 * i] = ((here + colsum[i - 1] + 8) >> 4) as u8;
        out[2 * i + 1] = ((here + colsum[i + 1] + 7) >> 4) as u8;
    }
    out[2 * n - 2] = ((colsum[n - 1] * 3 + colsum[n - 2] + 8) >> 4) as u8;
    out[2 * n - 1] = ((colsum[n - 1] * 4 + 7) >> 4) as u8;
}

/// `jdcolor.c`'s fixed-point constants, `FIX(x) = round(x * 2^16)`.
const SCALEBITS: u32 = 16;
const FIX_1_40200: i32 = 91881;
const FIX_1_77200: i32 = 116130;
const FIX_0_71414: i32 = 46802;
const FIX_0_34414: i32 = 22554;
const ONE_HALF: i32 = 1 << (SCALEBITS - 1);

/// The YCbCr to RGB tables of `build_ycc_rgb_table`, indexed by the Cb or Cr byte.
struct YccTables {
    cr_r: [i32; 256],
    cb_b: [i32; 256],
    cr_g: [i32; 256],
    cb_g: [i32; 256],
}

const YCC_TABLES: YccTables = {
    let mut t = YccTables {
        cr_r: [0; 256],
        cb_b: [0; 256],
        cr_g: [0; 256],
        cb_g: [0; 256],
    };
    let mut i = 0;
    while i < 256 {
        let x = i as i32 - 128;
        t.cr_r[i] = (FIX_1_40200 * x + ONE_HALF) >> SCALEBITS;
        t.cb_b[i] = (FIX_1_77200 * x + ONE_HALF) >> SCALEBITS;
        t.cr_g[i] = -FIX_0_71414 * x;
        t.cb_g[i] = -FIX_0_34414 * x + ONE_HALF;
        i += 1;
    }
    t
};

/// Converts a row of Y, Cb and Cr samples to interleaved RGB bytes in `out` (three times as
/// long), as libjpeg-turbo's `ycc_rgb_convert`.
pub(super) fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    let t = &YCC_TABLES;
    let clamp = |v: i32| v.clamp(0, 255) as u8;
    for (((rgb, &y), &cb), &cr) in out.chunks_exact_mut(3).zip(y).zip(cb).zip(cr) {
        let (y, cb, cr) = (i32::from(y), usize::from(cb), usize::from(cr));
        rgb[0] = clamp(y + t.cr_r[cr]);
        rgb[1] = clamp(y + ((t.cb_g[cb] + t.cr_g[cr]) >> SCALEBITS));
        rgb[2] = clamp(y + t.cb_b[cb]);
    }
}

/// Interleaves a row of R, G and B samples (a JPEG stored in RGB) into `out`.
pub(super) fn interleave(r: &[u8], g: &[u8], b: &[u8], out: &mut [u8]) {
    for (((rgb, &r), &g), &b) in out.chunks_exact_mut(3).zip(r).zip(g).zip(b) {
        rgb.copy_from_slice(&[r, g, b]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_constants_are_libjpegs() {
        let fix = |x: f64| (x * f64::from(1u32 << SCALEBITS) + 0.5) as i32;
        assert_eq!(FIX_1_40200, fix(1.402));
        assert_eq!(FIX_1_77200, fix(1.772));
        assert_eq!(FIX_0_71414, fix(0.71414));
        assert_eq!(FIX_0_34414, fix(0.34414));
    }

    #[test]
    fn greys_stay_grey_and_primaries_land_where_libjpeg_puts_them() {
        let mut out = [0u8; 9];
        ycc_to_rgb(&[0, 77, 255], &[128; 3], &[128; 3], &mut out);
        assert_eq!(out, [0, 0, 0, 77, 77, 77, 255, 255, 255]);
        // Pure red as a JPEG encoder stores it (Y 76, Cb 85, Cr 255): libjpeg gives 254, 0, 0.
        let mut out = [0u8; 3];
        ycc_to_rgb(&[76], &[85], &[255], &mut out);
        assert_eq!(out, [254, 0, 0]);
    }

    /// The whole `out_width x out_height` upsampled plane, row by row.
    fn upsample(
        plane: Plane<'_>,
        h_expand: usize,
        v_expand: usize,
        out_width: usize,
        out_height: usize,
    ) -> Vec<u8> {
        let mut upsampler = Upsampler::new(plane, h_expand, v_expand);
        let mut out = vec![0u8; out_width * out_height];
        for (y, row) in out.chunks_exact_mut(out_width).enumerate() {
            upsampler.row(y, row);
        }
        out
    }

    fn plane(samples: &[u8], width: usize, height: usize) -> Plane<'_> {
        Plane {
            samples,
            stride: width,
            width,
            height,
        }
    }

    #[test]
    fn h2v1_is_the_triangle_filter_with_alternating_rounding() {
        let src = [10, 20, 31];
        let out = upsample(plane(&src, 3, 1), 2, 1, 6, 1);
        // (3*10+20+2)/4 = 13, (3*20+10+1)/4 = 17, (3*20+31+2)/4 = 23, (3*31+20+1)/4 = 28.
        assert_eq!(out, [10, 13, 17, 23, 28, 31]);
        // An odd output width drops the last sample.
        assert_eq!(
            upsample(plane(&src, 3, 1), 2, 1, 5, 1),
            [10, 13, 17, 23, 28]
        );
    }

    #[test]
    fn narrow_planes_are_replicated() {
        let src = [10, 20];
        assert_eq!(upsample(plane(&src, 2, 1), 2, 1, 4, 1), [10, 10, 20, 20]);
        assert_eq!(
            upsample(plane(&src, 2, 1), 2, 2, 4, 2),
            [10, 10, 20, 20, 10, 10, 20, 20]
        );
    }

    #[test]
    fn h1v2_repeats_the_edge_rows() {
        let src = [0, 100];
        let out = upsample(plane(&src, 1, 2), 1, 2, 1, 4);
        // Row 0: (3*0 + 0 + 1)/4; row 1: (3*0 + 100 + 2)/4; row 2: (300 + 0 + 1)/4;
        // row 3: (300 + 100 + 2)/4.
        assert_eq!(out, [0, 25, 75, 100]);
    }

    #[test]
    fn h2v2_weights_nine_three_three_one() {
        // One bright sample in the middle of a 3x3 plane.
        let mut src = [0u8; 9];
        src[4] = 160;
        let out = upsample(plane(&src, 3, 3), 2, 2, 6, 6);
        // Output (2, 2) is nearest to the bright sample from the top-left: 9/16 of it.
        assert_eq!(out[2 * 6 + 2], ((160 * 9 + 8) >> 4) as u8);
        assert_eq!(out[2 * 6 + 1], ((160 * 3 + 7) >> 4) as u8);
        assert_eq!(out[6 + 1], ((160 + 7) >> 4) as u8);
        assert_eq!(out[0], 0);
    }

    #[test]
    fn other_ratios_replicate() {
        let src = [1, 2];
        assert_eq!(
            upsample(plane(&src, 2, 1), 4, 1, 7, 1),
            [1, 1, 1, 1, 2, 2, 2]
        );
    }
}
