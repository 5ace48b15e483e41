//! CLIP text and image embeddings in pure Rust, so a brief in words finds creators by their
//! pictures.
//!
//! The platform stores CLIP ViT-B/32 embeddings of creators' profile pictures and thumbnails
//! and searches them with an embedded brief. This crate computes both sides without Python:
//!
//! ```no_run
//! use kol_embed::{ClipEmbedder, Embedder, Image};
//!
//! # fn main() -> kol_embed::Result<()> {
//! // A folder with openai/clip-vit-base-patch32's config.json, model.safetensors and
//! // tokenizer.json (see HOW_TO_GET_THE_MODEL; nothing is downloaded).
//! let clip = ClipEmbedder::from_dir("models/clip-vit-base-patch32")?;
//! let brief = clip.embed_text("skincare for sensitive skin, Bangkok")?;
//! let thumb = clip.embed_image(&Image::open("thumbs/123.jpg")?)?;
//! println!("cosine distance {:.3}", brief.cosine_distance(&thumb));
//! # Ok(())
//! # }
//! ```
//!
//! # Design
//!
//! - **One trait, many backends.** Search and planning code takes an [`Embedder`] (text and
//!   pictures to kol-core [`Embedding`](kol_core::Embedding)s, one at a time or in batches), so
//!   a service can plug in a remote embedding API or a cache instead of [`ClipEmbedder`].
//! - **Same numbers as the Python reference.** [`ClipEmbedder`] reproduces transformers'
//!   `CLIPModel.get_text_features` / `get_image_features` followed by L2 normalization. The
//!   tests compare it with a tiny random `CLIPModel` saved by transformers (same architecture,
//!   small widths), value by value within 1e-4 (measured: under 1e-7) for texts and for PNG
//!   and JPEG pictures, including colour JPEGs with 4:2:0 chroma subsampling (baseline and
//!   progressive, as cameras and platforms serve them), and compare the decoded and
//!   preprocessed pictures with Pillow's byte for byte. That exactness is why preprocessing
//!   is hand-written ([`preprocess`]): a generic bicubic filter differs from Pillow's
//!   antialiased fixed-point one by several grey levels, and why JPEGs are decoded as
//!   Pillow's libjpeg-turbo decodes them: the `image` crate's JPEG decoder differs from it in
//!   about a fifth of the bytes of a 4:2:0 picture, by up to 4 grey levels, which moved the
//!   fixture's JPEG embeddings by 3e-4. The rare kinds of JPEG listed under [`Image`] that go
//!   to the `image` crate's decoder (CMYK, 12-bit, lossless...) carry no such bound.
//! - **Pure Rust, no downloads.** Tensors run on [candle](https://docs.rs/candle-core) (CPU),
//!   the tokenizer is Hugging Face's `tokenizers` crate with its pure-Rust regex engine, and
//!   pictures are decoded by this crate's port of libjpeg-turbo's decoding (JPEG) and by the
//!   `image` crate (PNG, WebP, and the rare JPEGs the port leaves out). The model folder is
//!   always given by the caller; [`model_dir_from_env_or_arg`] and [`HOW_TO_GET_THE_MODEL`] help a
//!   program find it or explain how to get it.
//! - **Typed errors that name the file.** A missing or malformed `config.json`,
//!   `model.safetensors` or `tokenizer.json`, a tensor of the wrong shape (named), or an
//!   undecodable picture is an [`EmbedError`] variant whose message starts with the path.
//! - **Embeddings are unit length**, 512 values, as the platform's `VECTOR(512)` column and
//!   kol-core's [`Embedding`](kol_core::Embedding) expect; a model projecting to another width
//!   is refused at load time ([`EmbedError::ProjectionDim`]).
//!
//! This crate depends on kol-core only among the workspace crates and knows nothing of
//! databases or search.

#![warn(missing_docs)]

pub mod clip;
pub mod config;
pub mod embedder;
pub mod error;
pub mod image;
mod jpeg;
mod model;
pub mod preprocess;
pub mod tokenizer;

use std::ffi::OsString;
use std::path::PathBuf;

pub use clip::{ClipEmbedder, ClipOptions, ModelFiles};
pub use config::{Activation, ClipConfig, EosPooling, TowerConfig};
pub use embedder::Embedder;
pub use error::{EmbedError, Result};
pub use image::Image;
pub use tokenizer::ClipTokenizer;

/// The environment variable naming a CLIP model folder: `KOL_CLIP_MODEL`.
pub const MODEL_DIR_ENV: &str = "KOL_CLIP_MODEL";

/// How to obtain the model files, for a program to print when no model folder is given.
pub const HOW_TO_GET_THE_MODEL: &str = "\
kol-embed needs the Hugging Face files of openai/clip-vit-base-patch32 in one folder:
    config.json  model.safetensors  tokenizer.json      (about 610 MB in all)
Nothing is downloaded at build or run time. On a machine with internet access, either:
    pip install -U huggingface_hub
    hf download openai/clip-vit-base-patch32 config.json model.safetensors tokenizer.json \\
        --local-dir clip-vit-base-patch32
  (older huggingface_hub versions call the command `huggingface-cli download`), or
    git lfs install && git clone https://huggingface.co/openai/clip-vit-base-patch32
  or save the three files from https://huggingface.co/openai/clip-vit-base-patch32/tree/main.
If a copy has only pytorch_model.bin, convert it with transformers:
    python -c \"from transformers import CLIPModel as M; \\
M.from_pretrained('DIR').save_pretrained('DIR', safe_serialization=True)\"
Copy the folder to this machine, then pass it with --clip-model DIR or set KOL_CLIP_MODEL=DIR.";

/// The CLIP model folder a program should use: `arg` (a command-line option) if given,
/// otherwise the non-empty value of [`MODEL_DIR_ENV`] (`KOL_CLIP_MODEL`), otherwise `None`,
/// in which case the program can print [`HOW_TO_GET_THE_MODEL`].
///
/// The folder is not checked here: [`ClipEmbedder::from_dir`] reports what is missing.
///
/// A program with a `--clip-model DIR` option uses it like this:
///
/// ```no_run
/// use kol_embed::{ClipEmbedder, Embedder, HOW_TO_GET_THE_MODEL, model_dir_from_env_or_arg};
/// # fn main() -> kol_embed::Result<()> {
/// # let clip_model_option: Option<std::path::PathBuf> = None;
/// match model_dir_from_env_or_arg(clip_model_option) {
///     Some(dir) => {
///         let clip = ClipEmbedder::from_dir(&dir)?;
///         let brief = clip.embed_text("skincare for sensitive skin, Bangkok")?;
///         // ... search with `brief`
///     }
///     None => {
///         eprintln!("no CLIP model given; using the category brief instead.\n{HOW_TO_GET_THE_MODEL}");
///         // ... fall back
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub fn model_dir_from_env_or_arg(arg: Option<PathBuf>) -> Option<PathBuf> {
    choose_model_dir(arg, std::env::var_os(MODEL_DIR_ENV))
}

fn choose_model_dir(arg: Option<PathBuf>, env: Option<OsString>) -> Option<PathBuf> {
    arg.filter(|p| !p.as_os_str().is_empty())
        .or_else(|| env.filter(|v| !v.is_empty()).map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_wins_over_the_environment() {
        let arg = Some(PathBuf::from("/models/a"));
        let env = Some(OsString::from("/models/b"));
        assert_eq!(choose_model_dir(arg, env.clone()), Some("/models/a".into()));
        assert_eq!(choose_model_dir(None, env), Some("/models/b".into()));
        assert_eq!(choose_model_dir(None, Some(OsString::new())), None);
        assert_eq!(choose_model_dir(Some(PathBuf::new()), None), None);
        assert_eq!(choose_model_dir(None, None), None);
    }

    #[test]
    fn the_instructions_name_the_files_and_the_ways_to_pass_them() {
        for needle in [
            "openai/clip-vit-base-patch32",
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "--clip-model",
            MODEL_DIR_ENV,
        ] {
            assert!(HOW_TO_GET_THE_MODEL.contains(needle), "{needle}");
        }
    }
}
