//! JPEG decoding against Pillow (libjpeg-turbo): byte-exact pixels for every encoding in the
//! fixtures, the fallback for kinds the exact decoder leaves to the image crate, and corrupt
//! data that gives a typed error and never a panic.

// Test helpers outside `#[test]` functions may unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{reference, reference_dir};
use kol_embed::{EmbedError, Image};
use proptest::prelude::*;

fn read(file: &str) -> Vec<u8> {
    std::fs::read(reference_dir().join(file)).unwrap()
}

#[test]
fn every_jpeg_decodes_to_pillows_pixels_byte_for_byte() {
    let r = reference();
    for case in &r.jpeg_cases {
        let decoded = Image::open(reference_dir().join(&case.file)).unwrap();
        let pillow = Image::open(reference_dir().join(&case.decoded_file)).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (case.width, case.height),
            "{}",
            case.file
        );
        let differing = decoded
            .as_rgb8()
            .iter()
            .zip(pillow.as_rgb8())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing, 0,
            "{} ({}): {differing} bytes differ from Pillow",
            case.file, case.encoding
        );
    }
    // The JPEG pictures whose embeddings are checked decode exactly too.
    for case in r.images.iter().filter(|c| c.file.ends_with(".jpg")) {
        let decoded = Image::open(reference_dir().join(&case.file)).unwrap();
        let crop = kol_embed::preprocess::clip_crop(&decoded, 224).unwrap();
        let pillow_crop = Image::open(reference_dir().join(&case.crop_file)).unwrap();
        assert_eq!(crop, pillow_crop, "{}", case.file);
    }
    // The cases cover every chroma subsampling, greyscale, progressive files with successive
    // approximation, restart markers, odd sizes and chroma planes under three samples wide.
    for needle in [
        "4:2:0",
        "4:2:2",
        "4:4:4",
        "4:4:0",
        "4:1:1",
        "greyscale",
        "progressive",
        "restart",
        "odd size",
        "RGB colour space",
        "one sequential scan per component",
        "16-bit",
    ] {
        assert!(
            r.jpeg_cases.iter().any(|c| c.encoding.contains(needle)),
            "no case for {needle}"
        );
    }
}

#[test]
fn kinds_the_exact_decoder_leaves_out_fall_back_or_name_their_kind() {
    let r = reference();
    assert!(!r.unsupported_jpegs.is_empty());
    for case in &r.unsupported_jpegs {
        let result = Image::decode(&read(&case.file), &case.file);
        if case.decodes {
            let image = result.unwrap();
            assert!(image.width() > 0 && image.height() > 0);
        } else {
            let err = result.unwrap_err();
            assert!(matches!(err, EmbedError::ImageDecode { .. }), "{err:?}");
            assert!(err.to_string().contains(&case.reason), "{err}");
        }
    }
}

#[test]
fn a_truncated_jpeg_is_an_error_naming_its_source() {
    let bytes = read("images/photo_420_333x517.jpg");
    let cut = &bytes[..bytes.len() / 2];
    let err = Image::decode(cut, "half.jpg").unwrap_err();
    assert!(matches!(err, EmbedError::ImageDecode { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("half.jpg: cannot decode image"),
        "{message}"
    );
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn every_prefix_of_a_progressive_jpeg_decodes_or_fails_cleanly() {
    // Cutting a file anywhere (headers, tables, between and inside scans) must never panic.
    let bytes = read("jpeg/restart_rows_progressive_422_61x47.jpg");
    for end in 0..bytes.len() {
        if let Ok(image) = Image::decode(&bytes[..end], "prefix") {
            assert_eq!((image.width(), image.height()), (61, 47));
        }
    }
}

/// The fixture JPEGs the corruption test starts from: one per decoding path.
const CORRUPTION_SOURCES: [&str; 5] = [
    "jpeg/420_45x31.jpg",
    "jpeg/restart_blocks_420_61x47.jpg",
    "jpeg/restart_rows_progressive_422_61x47.jpg",
    "jpeg/grey_progressive_45x31.jpg",
    "jpeg/cjpeg_non_interleaved_66x48.jpg",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Overwritten, flipped, inserted or cut bytes anywhere in a JPEG give a picture or an
    /// `ImageDecode` error, never a panic.
    #[test]
    fn corrupt_jpegs_give_errors_not_panics(
        source in 0..CORRUPTION_SOURCES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..6),
    ) {
        let mut bytes = read(CORRUPTION_SOURCES[source]);
        for (at, kind, value) in edits {
            let at = at.index(bytes.len());
            match kind {
                0 => bytes[at] = value,
                1 => bytes[at] ^= 1 << (value % 8),
                2 => bytes.insert(at, value),
                _ => bytes.truncate(at.max(2)),
            }
        }
        match Image::decode(&bytes, "corrupt") {
            Ok(image) => {
                let pixels = image.width() as usize * image.height() as usize;
                prop_assert_eq!(image.as_rgb8().len(), pixels * 3);
            }
            Err(err) => prop_assert!(matches!(err, EmbedError::ImageDecode { .. }), "{err:?}"),
        }
    }
}
