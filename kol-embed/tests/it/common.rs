//! Shared helpers of the integration tests: fixture paths, the reference file, scratch folders.

#![allow(dead_code, unreachable_pub)]
// Test helpers may unwrap: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kol_embed::ClipEmbedder;
use serde::Deserialize;

/// The tiny random CLIP model written by `scripts/make_tiny_clip.py`.
pub fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-clip")
}

/// The inputs and transformers' outputs for them.
pub fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-clip-reference")
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    pub tolerance: f32,
    pub bos_id: u32,
    pub eos_id: u32,
    pub texts: Vec<TextCase>,
    pub token_cases: Vec<TokenCase>,
    pub images: Vec<ImageCase>,
    pub resize_source: String,
    pub resize_cases: Vec<ResizeCase>,
    pub jpeg_cases: Vec<JpegCase>,
    pub unsupported_jpegs: Vec<UnsupportedJpeg>,
}

#[derive(Debug, Deserialize)]
pub struct TextCase {
    pub text: String,
    pub input_ids: Vec<u32>,
    pub embedding: Vec<f32>,
}

#[derive(Debug, Deserialize)]
pub struct TokenCase {
    pub text: String,
    pub input_ids: Vec<u32>,
}

#[derive(Debug, Deserialize)]
pub struct ImageCase {
    pub file: String,
    pub crop_file: String,
    pub width: u32,
    pub height: u32,
    pub embedding: Vec<f32>,
}

#[derive(Debug, Deserialize)]
pub struct ResizeCase {
    pub file: String,
    pub width: u32,
    pub height: u32,
}

/// A JPEG and Pillow's decoding of it (RGB PNG).
#[derive(Debug, Deserialize)]
pub struct JpegCase {
    pub file: String,
    pub decoded_file: String,
    pub encoding: String,
    pub width: u32,
    pub height: u32,
}

/// A kind of JPEG the exact decoder hands to the image crate's decoder.
#[derive(Debug, Deserialize)]
pub struct UnsupportedJpeg {
    pub file: String,
    /// Whether the fallback decoder reads it.
    pub decodes: bool,
    /// What the error names when it does not.
    pub reason: String,
}

pub fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let json = std::fs::read_to_string(reference_dir().join("reference.json")).unwrap();
        serde_json::from_str(&json).unwrap()
    })
}

/// The fixture model, loaded once per test binary.
pub fn tiny_clip() -> &'static ClipEmbedder {
    static CLIP: OnceLock<ClipEmbedder> = OnceLock::new();
    CLIP.get_or_init(|| ClipEmbedder::from_dir(model_dir()).unwrap())
}

/// Largest absolute difference between two vectors of the same length.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A fresh copy of the fixture model folder, removed when dropped.
pub struct ScratchModel {
    pub dir: PathBuf,
}

impl ScratchModel {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kol-embed-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["config.json", "model.safetensors", "tokenizer.json"] {
            std::fs::copy(model_dir().join(file), dir.join(file)).unwrap();
        }
        Self { dir }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Rewrites `config.json` through `edit`.
    pub fn edit_config(&self, edit: impl FnOnce(&mut serde_json::Value)) {
        let path = self.path("config.json");
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut json);
        std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    }
}

impl Drop for ScratchModel {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
