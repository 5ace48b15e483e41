//! Decoded pictures: 8-bit RGB pixels, decoded from PNG, JPEG or WebP the way CLIP's Python
//! preprocessing (Pillow) sees them.

use std::io::Cursor;
use std::path::Path;

use crate::error::{EmbedError, Result};
use crate::jpeg;

/// A decoded picture: 8-bit RGB pixels, row by row, three bytes per pixel.
///
/// Invariants: `width >= 1`, `height >= 1`, and `width * height * 3` bytes of pixels.
///
/// Decoding follows what transformers' CLIP image processor does with a Pillow image: a
/// greyscale picture has its channel repeated, and a picture with transparency (an alpha
/// channel, or a PNG/GIF transparent colour) is composited onto white with Pillow's integer
/// arithmetic. The EXIF orientation is ignored, as Pillow's `Image.open` ignores it.
///
/// How exactly each format matches Pillow (tested against Pillow 13.0 and its libjpeg-turbo 3.2):
/// - **PNG**: the same pixels, except 16-bit PNGs, reduced to 8 bits by rounding where Pillow
///   truncates (one grey level here and there).
/// - **JPEG**: the same pixels, byte for byte, for baseline, extended-sequential and
///   progressive Huffman-coded 8-bit JPEGs in greyscale, YCbCr or RGB, with any whole-number
///   chroma subsampling (4:2:0, 4:2:2, 4:4:0, 4:1:1...), restart markers and odd sizes: this
///   crate decodes them as libjpeg-turbo does by default (integer IDCT, "fancy" chroma
///   upsampling, its YCbCr tables). The rare rest (CMYK/YCCK, 12-bit, lossless,
///   hierarchical, Motion-JPEG frames without Huffman tables, progressive files missing their
///   low-frequency refinements) goes to the `image` crate's decoder, whose pixels may differ
///   from Pillow's (CMYK in particular); arithmetic-coded JPEGs are not readable.
/// - **WebP**: the `image` crate's decoder, not compared with Pillow.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Image {
    /// Wraps raw RGB pixels: `width * height * 3` bytes, row by row.
    ///
    /// # Errors
    /// [`EmbedError::InvalidImage`] when a side is zero or the buffer has the wrong length.
    pub fn from_rgb8(width: u32, height: u32, pixels: Vec<u8>) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(EmbedError::InvalidImage {
                reason: format!("a picture needs at least one pixel, got {width}x{height}"),
            });
        }
        let expected = u64::from(width) * u64::from(height) * 3;
        if pixels.len() as u64 != expected {
            return Err(EmbedError::InvalidImage {
                reason: format!(
                    "{width}x{height} RGB needs {expected} bytes, got {}",
                    pixels.len()
                ),
            });
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    /// Decodes an encoded picture (PNG, JPEG or WebP, recognized from its content).
    /// `source_name` names it in errors: a path, a URL, a media id. See [`Image`] for how
    /// closely each format matches Pillow.
    ///
    /// Decoding uses at most about 512 MiB, so a decompression bomb is an error rather than
    /// an allocation failure.
    ///
    /// # Errors
    /// [`EmbedError::ImageDecode`] naming `source_name` when the bytes are not a picture in a
    /// supported format, are truncated or corrupt, or need more memory than the limit.
    pub fn decode(bytes: &[u8], source_name: &str) -> Result<Self> {
        let decode_error = |reason: String| EmbedError::ImageDecode {
            source_name: source_name.to_owned(),
            reason,
        };
        let reader = image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| decode_error(e.to_string()))?;
        // JPEGs go to the decoder that reproduces libjpeg-turbo; the kinds of JPEG it does not
        // handle go, like other formats, to the image crate's decoders.
        let mut unsupported_jpeg = None;
        match reader.format() {
            None => {
                return Err(decode_error(
                    "unrecognized format (expected PNG, JPEG or WebP)".to_owned(),
                ));
            }
            Some(image::ImageFormat::Jpeg) => match jpeg::decode(bytes) {
                Ok(decoded) => return Ok(Self::from_jpeg(decoded)),
                Err(jpeg::Failure::Invalid(reason)) => return Err(decode_error(reason)),
                Err(jpeg::Failure::Unsupported(kind)) => unsupported_jpeg = Some(kind),
            },
            Some(_) => {}
        }
        let decoded = reader.decode().map_err(|e| match &unsupported_jpeg {
            Some(kind) => decode_error(format!("{kind}, and the fallback decoder failed: {e}")),
            None => decode_error(e.to_string()),
        })?;
        Ok(Self::from_dynamic(decoded))
    }

    /// Reads and decodes the picture at `path`; see [`Image::decode`].
    ///
    /// # Errors
    /// [`EmbedError::MissingFile`] or [`EmbedError::Io`] when the file cannot be read,
    /// [`EmbedError::ImageDecode`] naming the path when it is not a picture.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = EmbedError::read_file(path)?;
        Self::decode(&bytes, &path.display().to_string())
    }

    /// Wraps what the libjpeg-compatible decoder gives, repeating a greyscale channel.
    fn from_jpeg(decoded: jpeg::Decoded) -> Self {
        let pixels = if decoded.grey {
            decoded.pixels.iter().flat_map(|&v| [v, v, v]).collect()
        } else {
            decoded.pixels
        };
        Self {
            width: decoded.width,
            height: decoded.height,
            pixels,
        }
    }

    /// Converts a decoded picture to RGB the way transformers' `convert_to_rgb` does.
    fn from_dynamic(decoded: image::DynamicImage) -> Self {
        let (width, height) = (decoded.width(), decoded.height());
        let pixels = if decoded.color().has_alpha() {
            let rgba = decoded.into_rgba8();
            let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
            for px in rgba.as_raw().chunks_exact(4) {
                let [r, g, b] = composite_on_white([px[0], px[1], px[2]], px[3]);
                rgb.extend_from_slice(&[r, g, b]);
            }
            rgb
        } else {
            decoded.into_rgb8().into_raw()
        };
        // The image crate never yields an empty picture, and its buffers match its sizes.
        Self {
            width,
            height,
            pixels,
        }
    }

    /// Width in pixels (at least 1).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (at least 1).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels: `width * height * 3` bytes, row by row, red-green-blue.
    pub fn as_rgb8(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixels, consuming the picture.
    pub fn into_rgb8(self) -> Vec<u8> {
        self.pixels
    }
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Pixels would drown every log line.
        write!(f, "Image({}x{} RGB)", self.width, self.height)
    }
}

/// Pillow's `alpha_composite` of one pixel over opaque white, in its integer arithmetic
/// (7 extra bits of precision, divisions by 255 rounded with shifts), then dropping alpha.
fn composite_on_white(rgb: [u8; 3], alpha: u8) -> [u8; 3] {
    if alpha == 0 {
        return [255; 3];
    }
    const PRECISION_BITS: u32 = 7;
    let shift_for_div255 = |a: u32| ((a >> 8) + a) >> 8;
    let src_a = u32::from(alpha);
    // With an opaque background, Pillow's `outa255` is 255 * 255, so its coefficients reduce
    // to alpha and 255 - alpha scaled by 2^7.
    let blend = 255 * (255 - src_a);
    let outa255 = src_a * 255 + blend;
    let coef1 = src_a * 255 * 255 * (1 << PRECISION_BITS) / outa255;
    let coef2 = 255 * (1 << PRECISION_BITS) - coef1;
    rgb.map(|c| {
        let tmp = u32::from(c) * coef1 + 255 * coef2;
        let v = shift_for_div255(tmp + (0x80 << PRECISION_BITS)) >> PRECISION_BITS;
        // Pillow stores the value in a byte; it is at most 255 by construction.
        v.min(255) as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_rgb8_validates() {
        assert!(Image::from_rgb8(2, 1, vec![0; 6]).is_ok());
        assert!(matches!(
            Image::from_rgb8(0, 1, vec![]),
            Err(EmbedError::InvalidImage { .. })
        ));
        let err = Image::from_rgb8(2, 2, vec![0; 11]).unwrap_err();
        assert!(err.to_string().contains("needs 12 bytes, got 11"), "{err}");
    }

    #[test]
    fn undecodable_bytes_name_their_source() {
        let err = Image::decode(b"definitely not a picture", "thumb 42").unwrap_err();
        assert!(matches!(err, EmbedError::ImageDecode { .. }), "{err}");
        assert!(err.to_string().starts_with("thumb 42: "), "{err}");
        // A PNG signature followed by garbage is recognized but fails to decode.
        let mut truncated = b"\x89PNG\r\n\x1a\n".to_vec();
        truncated.extend_from_slice(&[0, 0, 0, 13, b'I', b'H']);
        let err = Image::decode(&truncated, "cut.png").unwrap_err();
        assert!(
            err.to_string().starts_with("cut.png: cannot decode image"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_reported_as_missing() {
        let err = Image::open("/nonexistent/kol-embed/picture.png").unwrap_err();
        assert!(matches!(err, EmbedError::MissingFile { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("/nonexistent/kol-embed/picture.png")
        );
    }

    #[test]
    fn compositing_matches_pillow_on_known_values() {
        // Opaque keeps the colour, transparent gives white.
        assert_eq!(composite_on_white([10, 20, 30], 255), [10, 20, 30]);
        assert_eq!(composite_on_white([10, 20, 30], 0), [255, 255, 255]);
        // Half-transparent black over white: Pillow gives 127 for alpha 128 and 128 for 127.
        assert_eq!(composite_on_white([0, 0, 0], 128), [127, 127, 127]);
        assert_eq!(composite_on_white([0, 0, 0], 127), [128, 128, 128]);
    }
}
