//! CLIP's image preprocessing, reproduced bit for bit: Pillow's bicubic resize of the shortest
//! edge, transformers' centre crop, rescaling and OpenAI's mean/std normalization.
//!
//! The reference is transformers' PIL image processor for CLIP (`CLIPImageProcessorPil`, the
//! one called "slow" before transformers 5), which resizes with Pillow. Pillow's resampling is
//! not a textbook bicubic: it widens the filter by the downscale factor (antialiasing), uses
//! the Keys cubic with `a = -0.5`, quantizes the weights to 22-bit fixed point, rounds the
//! picture to 8 bits between the horizontal and the vertical pass, and (since Pillow 13) picks
//! the order of the passes from the shape of the resize. [`resize_bicubic`] does all of that,
//! so its output equals Pillow's byte for byte (the tests check it against Pillow 13.0).

use std::ops::Range;

use crate::error::{EmbedError, Result};
use crate::image::Image;

// The constants are written as transformers writes them (`OPENAI_CLIP_MEAN`, `OPENAI_CLIP_STD`)
// and rounded to `f32` as numpy rounds them when it normalizes a float32 picture.

/// OpenAI CLIP's per-channel mean (red, green, blue) of pixels scaled to `[0, 1]`.
#[allow(clippy::excessive_precision)]
pub const CLIP_MEAN: [f32; 3] = [0.48145466, 0.4578275, 0.40821073];
/// OpenAI CLIP's per-channel standard deviation (red, green, blue).
#[allow(clippy::excessive_precision)]
pub const CLIP_STD: [f32; 3] = [0.26862954, 0.26130258, 0.27577711];

/// Fixed-point precision of Pillow's 8-bit resampling weights.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// The size `(width, height)` a picture is resized to so that its shorter side is
/// `shortest_edge`, keeping the aspect ratio; the longer side is truncated, as transformers'
/// `get_resize_output_image_size` does (`int(shortest_edge * long / short)`).
pub fn shortest_edge_size(width: u32, height: u32, shortest_edge: u32) -> (u32, u32) {
    let (short, long) = if width <= height {
        (width, height)
    } else {
        (height, width)
    };
    // Python computes `shortest_edge * long` exactly, then divides in double precision.
    let new_long = (f64::from(shortest_edge) * f64::from(long) / f64::from(short.max(1))) as u32;
    if width <= height {
        (shortest_edge, new_long)
    } else {
        (new_long, shortest_edge)
    }
}

/// Resizes with Pillow's `Image.resize(size, Image.BICUBIC)` semantics, byte for byte.
///
/// # Errors
/// [`EmbedError::InvalidImage`] when `width` or `height` is zero.
pub fn resize_bicubic(image: &Image, width: u32, height: u32) -> Result<Image> {
    if width == 0 || height == 0 {
        return Err(EmbedError::InvalidImage {
            reason: format!("cannot resize to {width}x{height}"),
        });
    }
    let pixels = resample_window(image, width, height, 0..width, 0..height);
    Image::from_rgb8(width, height, pixels)
}

/// The pixels `xs x ys` of the picture Pillow's bicubic resize to `width x height` would give,
/// computing only those: each output pixel depends only on its own filter weights, so a
/// window of the result equals the same window of the full resize.
///
/// Pillow resamples in two separable passes, rounding to 8 bits in between, so their order
/// matters. Like Pillow, this skips a pass whose size does not change (its filter would be the
/// identity) and runs the horizontal pass first, except when the height shrinks by more than
/// twice as many pixels as the width, where Pillow 13 runs the vertical pass first (earlier
/// Pillow versions always went horizontal first; the two orders differ by a grey level here
/// and there).
fn resample_window(
    image: &Image,
    width: u32,
    height: u32,
    xs: Range<u32>,
    ys: Range<u32>,
) -> Vec<u8> {
    let (in_w, in_h) = (image.width() as usize, image.height() as usize);
    let (out_w, out_h) = (width as usize, height as usize);
    let xs = xs.start as usize..xs.end as usize;
    let ys = ys.start as usize..ys.end as usize;
    let source = Block {
        pixels: image.as_rgb8(),
        width: in_w,
        x0: 0,
        y0: 0,
    };
    let horizontal = (out_w != in_w).then(|| Coefficients::new(in_w, out_w, xs.clone()));
    let vertical = (out_h != in_h).then(|| Coefficients::new(in_h, out_h, ys.clone()));
    match (&horizontal, &vertical) {
        (None, None) => source.copy(xs, ys),
        (Some(h), None) => source.horizontal(ys, h),
        (None, Some(v)) => source.vertical(xs, v),
        (Some(h), Some(v)) => {
            let shrink_w = in_w as i64 - out_w as i64;
            let shrink_h = in_h as i64 - out_h as i64;
            if shrink_h > 0 && shrink_h > 2 * shrink_w {
                // Vertical pass over the source columns the horizontal pass reads.
                let cols = h.input_range();
                let temp = source.vertical(cols.clone(), v);
                Block {
                    pixels: &temp,
                    width: cols.len(),
                    x0: cols.start,
                    y0: ys.start,
                }
                .horizontal(ys, h)
            } else {
                // Horizontal pass over the source rows the vertical pass reads.
                let rows = v.input_range();
                let temp = source.horizontal(rows.clone(), h);
                Block {
                    pixels: &temp,
                    width: xs.len(),
                    x0: xs.start,
                    y0: rows.start,
                }
                .vertical(xs, v)
            }
        }
    }
}

/// Crops the centre `width x height` region the way transformers' `center_crop` does: the
/// offset is `(size - crop) / 2` rounded down, and a picture smaller than the crop is padded
/// with black, centred with the extra pixel of an odd margin on the top or left.
///
/// # Errors
/// [`EmbedError::InvalidImage`] when `width` or `height` is zero.
pub fn center_crop(image: &Image, width: u32, height: u32) -> Result<Image> {
    if width == 0 || height == 0 {
        return Err(EmbedError::InvalidImage {
            reason: format!("cannot crop to {width}x{height}"),
        });
    }
    let (in_w, in_h) = (i64::from(image.width()), i64::from(image.height()));
    let (w, h) = (i64::from(width), i64::from(height));
    // transformers takes `top = (in_h - h) // 2` (floor division) and, when the crop does not
    // fit, pads by `ceil(margin / 2)` first and shifts `top` by the same amount; in source
    // coordinates both cases are "row y of the crop is row y + top of the picture", with rows
    // outside the picture black. Likewise for columns.
    let top = (in_h - h).div_euclid(2);
    let left = (in_w - w).div_euclid(2);
    let src = image.as_rgb8();
    let mut out = vec![0u8; (w * h * 3) as usize];
    for y in 0..h {
        let sy = y + top;
        if sy < 0 || sy >= in_h {
            continue;
        }
        for x in 0..w {
            let sx = x + left;
            if sx < 0 || sx >= in_w {
                continue;
            }
            let s = ((sy * in_w + sx) * 3) as usize;
            let d = ((y * w + x) * 3) as usize;
            out[d..d + 3].copy_from_slice(&src[s..s + 3]);
        }
    }
    Image::from_rgb8(width, height, out)
}

/// CLIP's picture before normalization: the shortest edge resized to `size` with
/// [`resize_bicubic`], then a centre `size x size` crop. This is the 8-bit picture the model
/// sees (for ViT-B/32, `size` is 224).
///
/// # Errors
/// [`EmbedError::InvalidImage`] when `size` is zero.
pub fn clip_crop(image: &Image, size: u32) -> Result<Image> {
    if size == 0 {
        return Err(EmbedError::InvalidImage {
            reason: "cannot crop to 0x0".to_owned(),
        });
    }
    let (w, h) = shortest_edge_size(image.width(), image.height(), size);
    // The resized picture is at least `size` on both sides, so the crop lies inside it and
    // only the cropped window needs computing (a thin panorama is not resized in full).
    let left = (w - size) / 2;
    let top = (h - size) / 2;
    let pixels = resample_window(image, w, h, left..left + size, top..top + size);
    Image::from_rgb8(size, size, pixels)
}

/// Normalizes a crop and lays it out as the rows the patch embedding multiplies: one row per
/// `patch x patch` square (row-major over the grid), each row channel-major like the
/// convolution weight `[hidden, 3, patch, patch]`. Appends `(size / patch)^2 * 3 * patch^2`
/// values to `out`.
///
/// Each value is `(u8 / 255 - mean) / std`, computed as transformers does: the scaling in
/// double precision, then rounded to `f32` for the normalization.
pub(crate) fn patch_rows(crop: &Image, patch: usize, out: &mut Vec<f32>) {
    let size = crop.width() as usize;
    let grid = size / patch;
    let px = crop.as_rgb8();
    out.reserve(grid * grid * 3 * patch * patch);
    for gy in 0..grid {
        for gx in 0..grid {
            for c in 0..3 {
                for ky in 0..patch {
                    let row = (gy * patch + ky) * size + gx * patch;
                    for kx in 0..patch {
                        let v = px[(row + kx) * 3 + c];
                        let scaled = (f64::from(v) * (1.0 / 255.0)) as f32;
                        out.push((scaled - CLIP_MEAN[c]) / CLIP_STD[c]);
                    }
                }
            }
        }
    }
}

/// Pillow's bicubic kernel (Keys, `a = -0.5`).
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`, for the output pixels
/// `window` of a resize from `in_size` to `out_size`: for each, the first input pixel read, how
/// many are read, and their fixed-point weights.
#[derive(Debug)]
struct Coefficients {
    /// Weights per output pixel (the row stride of `weights`).
    ksize: usize,
    /// `(first input index, count)` per output pixel of the window.
    bounds: Vec<(usize, usize)>,
    /// `ksize` fixed-point weights per output pixel (zero past `count`).
    weights: Vec<i32>,
}

impl Coefficients {
    fn new(in_size: usize, out_size: usize, window: Range<usize>) -> Self {
        const SUPPORT: f64 = 2.0;
        let scale = in_size as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = SUPPORT * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let mut bounds = Vec::with_capacity(window.len());
        let mut weights = vec![0i32; window.len() * ksize];
        let mut k = vec![0f64; ksize];
        for (slot, xx) in window.enumerate() {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // C's `(int)` truncates towards zero, as `as i64` does.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) - xmin;
            let (xmin, xmax) = (xmin as usize, xmax.max(0) as usize);
            let mut ww = 0.0;
            for (x, kx) in k.iter_mut().enumerate().take(xmax) {
                let w = bicubic(((x + xmin) as f64 - center + 0.5) * ss);
                *kx = w;
                ww += w;
            }
            let row = &mut weights[slot * ksize..(slot + 1) * ksize];
            for (x, &kx) in k.iter().enumerate().take(xmax) {
                let w = if ww != 0.0 { kx / ww } else { kx };
                let fixed = w * f64::from(1u32 << PRECISION_BITS);
                row[x] = if w < 0.0 {
                    (-0.5 + fixed) as i32
                } else {
                    (0.5 + fixed) as i32
                };
            }
            bounds.push((xmin, xmax));
        }
        Self {
            ksize,
            bounds,
            weights,
        }
    }

    /// The fixed-point weights of the window's `slot`-th output pixel.
    fn weights(&self, slot: usize) -> &[i32] {
        let (_, count) = self.bounds[slot];
        &self.weights[slot * self.ksize..slot * self.ksize + count]
    }

    /// The input pixels the window reads, first to last (bounds grow with the output index).
    fn input_range(&self) -> Range<usize> {
        match (self.bounds.first(), self.bounds.last()) {
            (Some(&(first, _)), Some(&(start, count))) => first..start + count,
            _ => 0..0,
        }
    }
}

/// Pillow's `clip8`: rounds a fixed-point sum (which started at one half) to a byte.
fn clip8(sum: i64) -> u8 {
    if sum >= (1i64 << PRECISION_BITS << 8) {
        255
    } else if sum <= 0 {
        0
    } else {
        (sum >> PRECISION_BITS) as u8
    }
}

/// A rectangle of RGB pixels whose top-left pixel is `(x0, y0)` in the coordinates of the
/// picture it was cut from (or computed for), `width` pixels a row.
struct Block<'a> {
    pixels: &'a [u8],
    width: usize,
    x0: usize,
    y0: usize,
}

impl Block<'_> {
    fn row(&self, y: usize) -> &[u8] {
        let start = (y - self.y0) * self.width * 3;
        &self.pixels[start..start + self.width * 3]
    }

    /// The pixels `xs x ys`, unchanged.
    fn copy(&self, xs: Range<usize>, ys: Range<usize>) -> Vec<u8> {
        let mut out = Vec::with_capacity(xs.len() * ys.len() * 3);
        for y in ys {
            out.extend_from_slice(&self.row(y)[(xs.start - self.x0) * 3..(xs.end - self.x0) * 3]);
        }
        out
    }

    /// Pillow's horizontal pass (`ImagingResampleHorizontal_8bpc`) over the rows `rows`.
    fn horizontal(&self, rows: Range<usize>, coeffs: &Coefficients) -> Vec<u8> {
        let out_w = coeffs.bounds.len();
        let mut out = Vec::with_capacity(rows.len() * out_w * 3);
        for y in rows {
            let line = self.row(y);
            for (slot, &(xmin, _)) in coeffs.bounds.iter().enumerate() {
                let mut sums = [1i64 << (PRECISION_BITS - 1); 3];
                for (i, &k) in coeffs.weights(slot).iter().enumerate() {
                    let p = (xmin + i - self.x0) * 3;
                    for (c, sum) in sums.iter_mut().enumerate() {
                        *sum += i64::from(line[p + c]) * i64::from(k);
                    }
                }
                out.extend(sums.map(clip8));
            }
        }
        out
    }

    /// Pillow's vertical pass (`ImagingResampleVertical_8bpc`) over the columns `cols`.
    fn vertical(&self, cols: Range<usize>, coeffs: &Coefficients) -> Vec<u8> {
        let stride = cols.len() * 3;
        let first = (cols.start - self.x0) * 3;
        let mut out = Vec::with_capacity(coeffs.bounds.len() * stride);
        let mut sums = vec![0i64; stride];
        for (slot, &(ymin, _)) in coeffs.bounds.iter().enumerate() {
            sums.fill(1i64 << (PRECISION_BITS - 1));
            for (i, &k) in coeffs.weights(slot).iter().enumerate() {
                let line = &self.row(ymin + i)[first..first + stride];
                for (sum, &v) in sums.iter_mut().zip(line) {
                    *sum += i64::from(v) * i64::from(k);
                }
            }
            out.extend(sums.iter().map(|&s| clip8(s)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn output_size_follows_transformers() {
        // (width, height, shortest edge) -> (width, height)
        let check = |w, h, s, expected| assert_eq!(shortest_edge_size(w, h, s), expected);
        check(320, 180, 224, (398, 224)); // 224 * 320 / 180 = 398.2
        check(500, 60, 224, (1866, 224)); // 1866.67 truncated
        check(100, 150, 224, (224, 336));
        check(256, 256, 224, (224, 224));
        check(1, 1000, 224, (224, 224_000));
    }

    #[test]
    fn kernel_is_keys_cubic() {
        assert_eq!(bicubic(0.0), 1.0);
        assert_eq!(bicubic(1.0), 0.0);
        assert_eq!(bicubic(2.0), 0.0);
        assert_eq!(bicubic(-0.5), bicubic(0.5));
        assert!((bicubic(0.5) - 0.5625).abs() < 1e-12);
        assert!((bicubic(1.5) + 0.0625).abs() < 1e-12);
    }

    #[test]
    fn resizing_to_the_same_size_is_the_identity() {
        let img = Image::from_rgb8(3, 2, (0..18).collect()).unwrap();
        assert_eq!(resize_bicubic(&img, 3, 2).unwrap(), img);
        assert!(resize_bicubic(&img, 0, 2).is_err());
    }

    #[test]
    fn crop_takes_the_centre_rounding_down() {
        // 5x1 picture with pixel values 0..5 in every channel; a 2x1 crop starts at (5-2)/2 = 1.
        let img = Image::from_rgb8(5, 1, (0..5).flat_map(|v| [v, v, v]).collect()).unwrap();
        let crop = center_crop(&img, 2, 1).unwrap();
        assert_eq!(crop.as_rgb8(), &[1, 1, 1, 2, 2, 2]);
    }

    #[test]
    fn crop_pads_small_pictures_with_black_like_transformers() {
        // transformers pads a 1x1 picture to 4x3 with the pixel at (left 2, top 1):
        // top_pad = ceil((3 - 1) / 2) = 1, left_pad = ceil((4 - 1) / 2) = 2.
        let img = Image::from_rgb8(1, 1, vec![9, 9, 9]).unwrap();
        let crop = center_crop(&img, 4, 3).unwrap();
        let lit: Vec<usize> = crop
            .as_rgb8()
            .chunks(3)
            .enumerate()
            .filter(|(_, p)| p[0] == 9)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(lit, vec![4 + 2]);
    }

    #[test]
    fn patch_rows_are_channel_major_per_patch() {
        // A 4x4 crop with 2x2 patches: the first row is patch (0, 0), red then green then blue.
        let pixels: Vec<u8> = (0..16u8).flat_map(|i| [i, 100 + i, 200 + i / 2]).collect();
        let crop = Image::from_rgb8(4, 4, pixels).unwrap();
        let mut rows = Vec::new();
        patch_rows(&crop, 2, &mut rows);
        assert_eq!(rows.len(), 4 * 3 * 4);
        let norm = |v: u8, c: usize| ((f64::from(v) / 255.0) as f32 - CLIP_MEAN[c]) / CLIP_STD[c];
        // Patch (0, 0) holds pixels 0, 1, 4, 5; patch (0, 1) starts with pixel 2.
        assert_eq!(
            &rows[0..4],
            &[norm(0, 0), norm(1, 0), norm(4, 0), norm(5, 0)]
        );
        assert_eq!(rows[4], norm(100, 1));
        assert_eq!(rows[8], norm(200, 2));
        assert_eq!(rows[12], norm(2, 0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A flat colour stays flat at any size: the weights of every output pixel sum to one
        /// in fixed point, up to Pillow's rounding of each weight.
        #[test]
        fn flat_colour_survives_any_resize(
            (w, h, ow, oh) in (1u32..60, 1u32..60, 1u32..90, 1u32..90),
            colour in any::<[u8; 3]>(),
        ) {
            let img = Image::from_rgb8(w, h, colour.repeat((w * h) as usize)).unwrap();
            let out = resize_bicubic(&img, ow, oh).unwrap();
            prop_assert_eq!((out.width(), out.height()), (ow, oh));
            for px in out.as_rgb8().chunks(3) {
                for c in 0..3 {
                    prop_assert!(px[c].abs_diff(colour[c]) <= 1, "{:?} vs {:?}", px, colour);
                }
            }
        }

        /// The CLIP crop is always `size x size`, whatever the picture's shape.
        #[test]
        fn clip_crop_is_square(w in 1u32..300, h in 1u32..300, size in 1u32..64) {
            let img = Image::from_rgb8(w, h, vec![128; (w * h * 3) as usize]).unwrap();
            let crop = clip_crop(&img, size).unwrap();
            prop_assert_eq!((crop.width(), crop.height()), (size, size));
        }
    }
}
