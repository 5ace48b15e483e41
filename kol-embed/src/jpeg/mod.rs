//! JPEG decoding that gives the pixels Pillow gives: libjpeg-turbo's default decompression
//! (integer "islow" IDCT, "fancy" triangle chroma upsampling, its fixed-point YCbCr tables),
//! for the JPEGs cameras and platforms produce: baseline, extended sequential and progressive
//! Huffman-coded 8-bit pictures, greyscale or YCbCr/RGB, any integral chroma subsampling,
//! restart markers.
//!
//! General-purpose Rust decoders differ from libjpeg-turbo by a grey level here and there (a
//! different IDCT rounding, a simpler chroma filter), enough to move a CLIP embedding by
//! 1e-3; CLIP's reference preprocessing decodes with Pillow, hence this module. What it does
//! not reproduce (CMYK/YCCK, 12-bit, arithmetic-coded, lossless or hierarchical JPEGs, the
//! standard Huffman tables Motion-JPEG frames omit, block smoothing of progressive files
//! missing their low-frequency refinements) is reported as [`Failure::Unsupported`] so the
//! caller can use another decoder.

mod color;
mod entropy;
mod idct;

use entropy::{HuffmanTable, NATURAL_ORDER, Scan, ScanComponent};

/// The most memory a decoding may use, in bytes (the `image` crate's default limit).
pub(crate) const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// More scans than any encoder writes (progressive files have about 10); a bound on the work a
/// hostile file can ask for.
const MAX_SCANS: usize = 1000;

/// Why a JPEG was not decoded.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A valid kind of JPEG this module does not reproduce exactly.
    Unsupported(String),
    /// The bytes are not a well-formed JPEG (or exceed the memory limit).
    Invalid(String),
}

fn invalid(reason: &str) -> Failure {
    Failure::Invalid(reason.to_owned())
}

/// A decoded JPEG: 8-bit greyscale (one byte a pixel) or RGB (three), row by row.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) grey: bool,
    pub(crate) pixels: Vec<u8>,
}

/// One component of the frame, with its coefficients.
struct Component {
    id: u8,
    h: usize,
    v: usize,
    /// The quantization table slot the frame header names.
    quant_slot: usize,
    /// The table as it was at the component's first scan (libjpeg latches it then).
    quant: Option<[u16; 64]>,
    /// Allocated blocks per row and rows of blocks (whole MCUs).
    blocks_w: usize,
    blocks_h: usize,
    /// Blocks a non-interleaved scan of this component covers.
    width_in_blocks: usize,
    height_in_blocks: usize,
    /// Real samples per row and rows (`downsampled_width` / `_height`).
    sampled_w: usize,
    sampled_h: usize,
    /// `blocks_w * blocks_h` blocks of 64 coefficients, natural order.
    coefficients: Vec<i16>,
    /// Progressive mode: per coefficient, the lowest bit decoded so far (-1: none yet).
    coef_bits: [i32; 64],
}

/// The frame header and everything decoded into it so far.
struct Frame {
    progressive: bool,
    width: usize,
    height: usize,
    max_h: usize,
    max_v: usize,
    mcus_x: usize,
    mcus_y: usize,
    components: Vec<Component>,
}

/// Finds the next marker from `pos` the way libjpeg's `next_marker` does (skipping stray bytes
/// and 0xFF fill bytes) and returns its code, with `pos` just after it; `None` at the end.
fn next_marker(data: &[u8], pos: &mut usize) -> Option<u8> {
    loop {
        while *pos < data.len() && data[*pos] != 0xFF {
            *pos += 1;
        }
        while *pos < data.len() && data[*pos] == 0xFF {
            *pos += 1;
        }
        let marker = *data.get(*pos)?;
        *pos += 1;
        if marker != 0 {
            return Some(marker);
        }
    }
}

/// The payload of the marker segment at `pos` (after its 2-byte length), moving `pos` past it.
fn segment<'d>(data: &'d [u8], pos: &mut usize) -> Result<&'d [u8], Failure> {
    let length = match data.get(*pos..*pos + 2) {
        Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return Err(invalid("truncated marker segment")),
    };
    let payload = length
        .checked_sub(2)
        .and_then(|n| data.get(*pos + 2..*pos + 2 + n))
        .ok_or_else(|| invalid("truncated or malformed marker segment"))?;
    *pos += length;
    Ok(payload)
}

fn u16_at(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]))
}

/// Decodes a JPEG as libjpeg-turbo's default settings do.
pub(crate) fn decode(data: &[u8]) -> Result<Decoded, Failure> {
    if data.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(invalid("not a JPEG (no start-of-image marker)"));
    }
    let mut pos = 2;
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut dc_tables: [Option<HuffmanTable>; 4] = Default::default();
    let mut ac_tables: [Option<HuffmanTable>; 4] = Default::default();
    let mut restart_interval = 0usize;
    let mut frame: Option<Frame> = None;
    let mut saw_jfif = false;
    let mut adobe_transform: Option<u8> = None;
    let mut scans = 0usize;
    // The data may end without an end-of-image marker; what was decoded until then is kept,
    // as libjpeg does.
    while let Some(marker) = next_marker(data, &mut pos) {
        match marker {
            0xD9 => break,
            0xD8 => return Err(invalid("a second start-of-image marker")),
            0xD0..=0xD7 => {}
            0xC0..=0xC2 => {
                let payload = segment(data, &mut pos)?;
                if frame.is_some() {
                    return Err(invalid("more than one frame header"));
                }
                frame = Some(Frame::parse(payload, marker == 0xC2)?);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let kind = match marker {
                    0xC3 => "lossless",
                    0xC5..=0xC7 => "hierarchical",
                    _ => "arithmetic-coded",
                };
                return Err(Failure::Unsupported(format!("{kind} JPEG")));
            }
            0xC4 => {
                let mut payload = segment(data, &mut pos)?;
                while let [class_slot, rest @ ..] = payload {
                    let (class, slot) = (class_slot >> 4, usize::from(class_slot & 15));
                    if class > 1 || slot > 3 || rest.len() < 16 {
                        return Err(invalid("malformed Huffman table segment"));
                    }
                    let mut counts = [0u8; 16];
                    counts.copy_from_slice(&rest[..16]);
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let values = rest
                        .get(16..16 + total)
                        .ok_or_else(|| invalid("truncated Huffman table"))?;
                    let table = HuffmanTable::new(&counts, values, class == 0)?;
                    let tables = if class == 0 {
                        &mut dc_tables
                    } else {
                        &mut ac_tables
                    };
                    tables[slot] = Some(table);
                    payload = &rest[16 + total..];
                }
            }
            0xDB => {
                let mut payload = segment(data, &mut pos)?;
                while let [precision_slot, rest @ ..] = payload {
                    let (wide, slot) = (precision_slot >> 4, usize::from(precision_slot & 15));
                    let size = if wide == 0 { 64 } else { 128 };
                    if wide > 1 || slot > 3 || rest.len() < size {
                        return Err(invalid("malformed quantization table segment"));
                    }
                    let mut table = [0u16; 64];
                    for (k, &natural) in NATURAL_ORDER[..64].iter().enumerate() {
                        table[natural] = if wide == 0 {
                            u16::from(rest[k])
                        } else {
                            u16::from_be_bytes([rest[2 * k], rest[2 * k + 1]])
                        };
                    }
                    quant[slot] = Some(table);
                    payload = &rest[size..];
                }
            }
            0xDD => {
                let payload = segment(data, &mut pos)?;
                if payload.len() != 2 {
                    return Err(invalid("malformed restart interval segment"));
                }
                restart_interval = u16_at(payload, 0);
            }
            0xDA => {
                let payload = segment(data, &mut pos)?;
                let frame = frame
                    .as_mut()
                    .ok_or_else(|| invalid("a scan before the frame header"))?;
                let scan =
                    frame.start_scan(payload, &quant, &dc_tables, &ac_tables, restart_interval)?;
                pos = entropy::decode_scan(data, pos, frame, &scan)?;
                scans += 1;
                if scans > MAX_SCANS {
                    return Err(invalid("more than 1000 scans"));
                }
            }
            0xE0 => {
                let payload = segment(data, &mut pos)?;
                saw_jfif |= payload.len() >= 14 && payload.starts_with(b"JFIF\0");
            }
            0xEE => {
                let payload = segment(data, &mut pos)?;
                if payload.len() >= 12 && payload.starts_with(b"Adobe") {
                    adobe_transform = Some(payload[11]);
                }
            }
            0x01..=0xBF => return Err(invalid("unknown marker")),
            // APPn, comments, and markers that carry nothing needed here (DNL, DAC, JPGn).
            _ => {
                segment(data, &mut pos)?;
            }
        }
    }
    let frame = frame.ok_or_else(|| invalid("no frame header"))?;
    if scans == 0 {
        return Err(invalid("no image data (no scan)"));
    }
    let rgb_colour_space = if saw_jfif {
        false
    } else if let Some(transform) = adobe_transform {
        transform == 0
    } else {
        let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
        ids == b"RGB"
    };
    frame.finish(rgb_colour_space)
}

impl Frame {
    /// Reads a SOF0/1/2 header and allocates the coefficient storage.
    fn parse(payload: &[u8], progressive: bool) -> Result<Self, Failure> {
        let &[precision, _, _, _, _, count, ref specs @ ..] = payload else {
            return Err(invalid("truncated frame header"));
        };
        let (height, width) = (u16_at(payload, 1), u16_at(payload, 3));
        if precision != 8 {
            return Err(Failure::Unsupported(format!("{precision}-bit JPEG")));
        }
        if height == 0 {
            return Err(Failure::Unsupported(
                "JPEG whose height comes after the first scan (DNL marker)".to_owned(),
            ));
        }
        if width == 0 {
            return Err(invalid("frame header with a zero width"));
        }
        let count = usize::from(count);
        if specs.len() != count * 3 || count == 0 {
            return Err(invalid("malformed frame header"));
        }
        if count != 1 && count != 3 {
            return Err(Failure::Unsupported(format!("{count}-component JPEG")));
        }
        let mut seen = Vec::with_capacity(count);
        for spec in specs.chunks_exact(3) {
            let (h, v, slot) = (spec[1] >> 4, spec[1] & 15, spec[2]);
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || slot > 3 {
                return Err(invalid(
                    "bad sampling factors or table slot in the frame header",
                ));
            }
            if seen.contains(&spec[0]) {
                return Err(invalid("two components with the same id"));
            }
            seen.push(spec[0]);
        }
        let max_h = specs.chunks_exact(3).map(|s| usize::from(s[1] >> 4)).max();
        let max_v = specs.chunks_exact(3).map(|s| usize::from(s[1] & 15)).max();
        let (max_h, max_v) = (max_h.unwrap_or(1), max_v.unwrap_or(1));
        let mcus_x = width.div_ceil(8 * max_h);
        let mcus_y = height.div_ceil(8 * max_v);
        let mut components = Vec::with_capacity(count);
        // Coefficients (2 bytes), samples (1) and upsampled planes, then the output.
        let mut bytes = width as u64 * height as u64 * (count as u64 + 3);
        for spec in specs.chunks_exact(3) {
            let (h, v) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
            if max_h % h != 0 || max_v % v != 0 {
                return Err(Failure::Unsupported(
                    "JPEG with fractional chroma subsampling".to_owned(),
                ));
            }
            let (blocks_w, blocks_h) = (mcus_x * h, mcus_y * v);
            bytes += blocks_w as u64 * blocks_h as u64 * 64 * 3;
            components.push(Component {
                id: spec[0],
                h,
                v,
                quant_slot: usize::from(spec[2]),
                quant: None,
                blocks_w,
                blocks_h,
                width_in_blocks: (width * h).div_ceil(8 * max_h),
                height_in_blocks: (height * v).div_ceil(8 * max_v),
                sampled_w: (width * h).div_ceil(max_h),
                sampled_h: (height * v).div_ceil(max_v),
                coefficients: Vec::new(),
                coef_bits: [-1; 64],
            });
        }
        if bytes > MAX_DECODE_BYTES {
            return Err(Failure::Invalid(format!(
                "a {width}x{height} JPEG needs about {} MiB to decode, more than the {} MiB limit",
                bytes >> 20,
                MAX_DECODE_BYTES >> 20
            )));
        }
        for c in &mut components {
            c.coefficients = vec![0; c.blocks_w * c.blocks_h * 64];
        }
        Ok(Self {
            progressive,
            width,
            height,
            max_h,
            max_v,
            mcus_x,
            mcus_y,
            components,
        })
    }

    /// Reads a scan header, checks it as libjpeg does, latches the quantization tables of its
    /// components and, in progressive mode, records which coefficient bits it brings.
    fn start_scan<'t>(
        &mut self,
        payload: &[u8],
        quant: &[Option<[u16; 64]>; 4],
        dc_tables: &'t [Option<HuffmanTable>; 4],
        ac_tables: &'t [Option<HuffmanTable>; 4],
        restart_interval: usize,
    ) -> Result<Scan<'t>, Failure> {
        let count = usize::from(*payload.first().unwrap_or(&0));
        if count == 0 || count > 4 || payload.len() != 4 + 2 * count {
            return Err(invalid("malformed scan header"));
        }
        let mut components: Vec<ScanComponent<'t>> = Vec::with_capacity(count);
        for spec in payload[1..1 + 2 * count].chunks_exact(2) {
            let index = self
                .components
                .iter()
                .position(|c| c.id == spec[0])
                .ok_or_else(|| invalid("a scan names a component the frame does not have"))?;
            if components.iter().any(|c| c.index == index) {
                return Err(invalid("a scan names a component twice"));
            }
            let (dc, ac) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
            if dc > 3 || ac > 3 {
                return Err(invalid("bad Huffman table slot in a scan header"));
            }
            components.push(ScanComponent {
                index,
                dc: dc_tables[dc].as_ref(),
                ac: ac_tables[ac].as_ref(),
            });
        }
        let tail = &payload[1 + 2 * count..];
        let (ss, se) = (usize::from(tail[0]), usize::from(tail[1]));
        let (ah, al) = (u32::from(tail[2] >> 4), u32::from(tail[2] & 15));
        if count > 1 {
            let blocks: usize = components
                .iter()
                .map(|c| self.components[c.index].h * self.components[c.index].v)
                .sum();
            if blocks > 10 {
                return Err(invalid("too many blocks in an MCU"));
            }
        }
        if self.progressive {
            let bad = if ss == 0 {
                se != 0
            } else {
                ss > se || se > 63 || count != 1
            } || (ah != 0 && al + 1 != ah)
                || al > 13;
            if bad {
                return Err(invalid("bad progressive scan parameters"));
            }
            for c in &components {
                for bits in &mut self.components[c.index].coef_bits[ss..=se] {
                    *bits = al as i32;
                }
            }
        }
        for c in &components {
            let component = &mut self.components[c.index];
            if component.quant.is_none() {
                component.quant = Some(quant[component.quant_slot].ok_or_else(|| {
                    invalid("a component uses a quantization table that is not defined")
                })?);
            }
        }
        Ok(Scan {
            components,
            ss: if self.progressive { ss } else { 0 },
            se: if self.progressive { se } else { 63 },
            ah,
            al: if self.progressive { al } else { 0 },
            restart_interval,
        })
    }

    /// libjpeg-turbo's `smoothing_ok`: whether it would smooth this progressive picture's
    /// blocks because some of the first nine AC coefficients never got all their bits.
    fn needs_block_smoothing(&self) -> bool {
        if !self.progressive {
            return false;
        }
        // Q01, Q10, Q20, Q11, Q02, Q03, Q12, Q21, Q30 and the DC term, in natural order.
        const POSITIONS: [usize; 10] = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24];
        let mut useful = false;
        for c in &self.components {
            let Some(quant) = c.quant else { return false };
            if POSITIONS.iter().any(|&p| quant[p] == 0) || c.coef_bits[0] < 0 {
                return false;
            }
            useful |= c.coef_bits[1..10].iter().any(|&b| b != 0);
        }
        useful
    }

    /// Inverse DCT, upsampling and colour conversion.
    fn finish(self, rgb_colour_space: bool) -> Result<Decoded, Failure> {
        if self.needs_block_smoothing() {
            return Err(Failure::Unsupported(
                "progressive JPEG with incomplete low-frequency coefficients (block smoothing)"
                    .to_owned(),
            ));
        }
        let (width, height) = (self.width, self.height);
        let mut planes = Vec::with_capacity(self.components.len());
        for c in &self.components {
            let stride = c.blocks_w * 8;
            let mut samples = vec![0u8; stride * c.blocks_h * 8];
            // A component no scan carried has no table: libjpeg's multipliers stay zero.
            let quant = c.quant.unwrap_or([0; 64]);
            for by in 0..c.height_in_blocks {
                for bx in 0..c.width_in_blocks {
                    let start = (by * c.blocks_w + bx) * 64;
                    let Some(block) = c
                        .coefficients
                        .get(start..start + 64)
                        .and_then(|b| <&[i16; 64]>::try_from(b).ok())
                    else {
                        continue;
                    };
                    let out = &mut samples[by * 8 * stride + bx * 8..];
                    idct::idct_islow(block, &quant, out, stride);
                }
            }
            planes.push((samples, stride));
        }
        let mut upsamplers: Vec<color::Upsampler<'_>> = self
            .components
            .iter()
            .zip(&planes)
            .map(|(c, (samples, stride))| {
                let plane = color::Plane {
                    samples,
                    stride: *stride,
                    width: c.sampled_w,
                    height: c.sampled_h,
                };
                color::Upsampler::new(plane, self.max_h / c.h, self.max_v / c.v)
            })
            .collect();
        // Upsampled a row at a time, then converted into the output row.
        let mut rows = vec![vec![0u8; width]; upsamplers.len()];
        let grey = upsamplers.len() == 1;
        let channels = if grey { 1 } else { 3 };
        let mut pixels = vec![0u8; width * height * channels];
        for (y, out) in pixels.chunks_exact_mut(width * channels).enumerate() {
            for (upsampler, row) in upsamplers.iter_mut().zip(rows.iter_mut()) {
                upsampler.row(y, row);
            }
            match rows.as_slice() {
                [luma] => out.copy_from_slice(luma),
                [r, g, b] if rgb_colour_space => color::interleave(r, g, b, out),
                [luma, cb, cr] => color::ycc_to_rgb(luma, cb, cr, out),
                _ => return Err(Failure::Unsupported("JPEG colour space".to_owned())),
            }
        }
        Ok(Decoded {
            width: width as u32,
            height: height as u32,
            grey,
            pixels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_past_stray_bytes_and_fill() {
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xFF, 0xD9, 0x56];
        let mut pos = 0;
        assert_eq!(next_marker(&data, &mut pos), Some(0xD9));
        assert_eq!(pos, 7);
        assert_eq!(next_marker(&data, &mut pos), None);
    }

    #[test]
    fn non_jpeg_and_truncated_headers_are_invalid() {
        assert!(matches!(decode(b"GIF89a"), Err(Failure::Invalid(_))));
        assert!(matches!(decode(&[0xFF, 0xD8]), Err(Failure::Invalid(_))));
        // A frame header cut short.
        let cut = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00];
        assert!(matches!(decode(&cut), Err(Failure::Invalid(_))));
    }

    #[test]
    fn unsupported_kinds_are_told_apart_from_invalid_data() {
        // An arithmetic-coded frame (SOF9) is valid JPEG this decoder leaves to another.
        let sof9 = [
            0xFF, 0xD8, 0xFF, 0xC9, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0,
        ];
        assert!(matches!(decode(&sof9), Err(Failure::Unsupported(_))));
        // So is a 12-bit one.
        let twelve = [
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 12, 0, 1, 0, 1, 1, 1, 0x11, 0,
        ];
        assert!(matches!(decode(&twelve), Err(Failure::Unsupported(_))));
    }

    #[test]
    fn progressive_frames_missing_low_ac_bits_would_be_smoothed_by_libjpeg() {
        // An 8x8 greyscale progressive frame.
        let mut frame = Frame::parse(&[8, 0, 8, 0, 8, 1, 1, 0x11, 0], true).unwrap();
        // No scan yet, so no latched table: libjpeg does not smooth.
        assert!(!frame.needs_block_smoothing());
        frame.components[0].quant = Some([1; 64]);
        frame.components[0].coef_bits[0] = 0;
        // DC complete, no AC scan at all.
        assert!(frame.needs_block_smoothing());
        frame.components[0].coef_bits[1..].fill(0);
        assert!(!frame.needs_block_smoothing());
        // One of the first nine AC coefficients is missing its last bit.
        frame.components[0].coef_bits[5] = 1;
        assert!(frame.needs_block_smoothing());
        // Beyond the ninth, libjpeg does not look.
        frame.components[0].coef_bits[5] = 0;
        frame.components[0].coef_bits[10] = 1;
        assert!(!frame.needs_block_smoothing());
        // A zero in the quantization table at those positions turns smoothing off.
        frame.components[0].coef_bits[5] = 1;
        frame.components[0].quant = Some({
            let mut q = [1; 64];
            q[8] = 0;
            q
        });
        assert!(!frame.needs_block_smoothing());
        // Sequential frames are never smoothed.
        frame.progressive = false;
        assert!(!frame.needs_block_smoothing());
    }

    #[test]
    fn an_oversized_frame_is_refused_before_allocating() {
        // 65535 x 65535 RGB would need gigabytes.
        let mut data = vec![
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0xFF, 0xFF, 0xFF, 0xFF, 3,
        ];
        data.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        match decode(&data) {
            Err(Failure::Invalid(reason)) => assert!(reason.contains("MiB limit"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
