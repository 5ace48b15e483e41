//! [`ClipEmbedder`]: the local CLIP model behind the [`Embedder`] trait, loaded from a Hugging
//! Face model folder.

use std::path::{Path, PathBuf};

use kol_core::Embedding;

use crate::config::ClipConfig;
use crate::embedder::Embedder;
#[cfg(doc)]
use crate::error::EmbedError;
use crate::error::Result;
use crate::image::Image;
use crate::model::ClipModel;
use crate::preprocess;
use crate::tokenizer::ClipTokenizer;

/// The three files of a Hugging Face CLIP model folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    /// `config.json`: the architecture.
    pub config: PathBuf,
    /// `model.safetensors`: the weights.
    pub weights: PathBuf,
    /// `tokenizer.json`: the BPE tokenizer.
    pub tokenizer: PathBuf,
}

impl ModelFiles {
    /// The standard file names inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            config: dir.join("config.json"),
            weights: dir.join("model.safetensors"),
            tokenizer: dir.join("tokenizer.json"),
        }
    }
}

/// Options for [`ClipEmbedder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipOptions {
    /// The most inputs run through the model at once; longer batches are split. Larger
    /// batches use the matrix kernels better but hold more activations in memory
    /// (ViT-B/32: about 0.6 MB per picture for the widest layer). Default 32; 0 is treated as 1.
    pub max_batch: usize,
}

impl Default for ClipOptions {
    fn default() -> Self {
        Self { max_batch: 32 }
    }
}

/// A CLIP model running locally on the CPU, in pure Rust: turns briefs and pictures into
/// L2-normalized 512-value [`Embedding`]s that can be compared by cosine distance.
///
/// Load it once with [`ClipEmbedder::from_dir`] (one to three seconds and 600 MB of memory for
/// ViT-B/32, twice that at the peak of loading, as the weights file is read whole before its
/// tensors are built) and share it: it is `Send + Sync`, and the embed methods take `&self`.
///
/// Texts are tokenized with the folder's `tokenizer.json` and truncated to 77 tokens; pictures
/// are resized and cropped exactly as transformers' CLIP image processor does with Pillow
/// (see [`preprocess`]). Up to [`ClipOptions::max_batch`] inputs run together, as one matrix
/// product per layer; texts are grouped by length, since a batch is padded to its longest
/// text. Results do not depend on how inputs are batched (up to float rounding, far below
/// 1e-5).
#[derive(Debug)]
pub struct ClipEmbedder {
    config: ClipConfig,
    tokenizer: ClipTokenizer,
    model: ClipModel,
    options: ClipOptions,
    dir: PathBuf,
}

impl ClipEmbedder {
    /// Loads a Hugging Face CLIP model folder (`config.json`, `model.safetensors`,
    /// `tokenizer.json`, as in `openai/clip-vit-base-patch32`) with default options. Nothing is
    /// downloaded: see [`HOW_TO_GET_THE_MODEL`](crate::HOW_TO_GET_THE_MODEL).
    ///
    /// # Errors
    /// A typed error naming the file at fault: [`EmbedError::MissingFile`],
    /// [`EmbedError::MalformedConfig`], [`EmbedError::ProjectionDim`],
    /// [`EmbedError::MalformedWeights`], [`EmbedError::MissingTensor`],
    /// [`EmbedError::TensorShape`] or [`EmbedError::MalformedTokenizer`].
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        Self::from_dir_with(dir, ClipOptions::default())
    }

    /// [`ClipEmbedder::from_dir`] with options.
    ///
    /// # Errors
    /// As [`ClipEmbedder::from_dir`].
    pub fn from_dir_with(dir: impl AsRef<Path>, options: ClipOptions) -> Result<Self> {
        let dir = dir.as_ref();
        let files = ModelFiles::in_dir(dir);
        // Cheapest first, so a wrong folder fails before reading 600 MB of weights.
        let config = ClipConfig::from_file(&files.config)?;
        let tokenizer = ClipTokenizer::from_file(&files.tokenizer, config.max_positions().min(77))?;
        let model = ClipModel::load(&config, &files.weights)?;
        Ok(Self {
            config,
            tokenizer,
            model,
            options,
            dir: dir.to_path_buf(),
        })
    }

    /// The model's shape, from its `config.json`.
    pub fn config(&self) -> &ClipConfig {
        &self.config
    }

    /// The tokenizer, to inspect how a text is split.
    pub fn tokenizer(&self) -> &ClipTokenizer {
        &self.tokenizer
    }

    /// The folder the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The 8-bit square picture the vision tower sees for `image` (resized and cropped).
    ///
    /// # Errors
    /// None in practice; the signature leaves room for [`EmbedError::InvalidImage`].
    pub fn preprocess(&self, image: &Image) -> Result<Image> {
        preprocess::clip_crop(image, self.image_side())
    }

    fn image_side(&self) -> u32 {
        // `ClipConfig` caps the picture side at 4096.
        u32::try_from(self.config.image_size()).unwrap_or(u32::MAX)
    }

    fn batch(&self) -> usize {
        self.options.max_batch.max(1)
    }
}

/// L2-normalized embeddings from the model's raw feature rows.
fn to_embeddings(rows: Vec<Vec<f32>>) -> Result<Vec<Embedding>> {
    rows.into_iter()
        .map(|row| Ok(Embedding::new(row)?.normalized()))
        .collect()
}

impl Embedder for ClipEmbedder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Embedding>> {
        let ids = texts
            .iter()
            .map(|t| self.tokenizer.encode(t))
            .collect::<Result<Vec<_>>>()?;
        // A batch is padded to its longest text, so texts of similar length are batched
        // together (shortest first, ties in input order) and the results put back in order.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| (ids[i].len(), i));
        let mut out: Vec<Option<Embedding>> = vec![None; ids.len()];
        for chunk in order.chunks(self.batch()) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            let embeddings = to_embeddings(self.model.encode_text(&batch)?)?;
            for (&i, embedding) in chunk.iter().zip(embeddings) {
                out[i] = Some(embedding);
            }
        }
        // Every index is in exactly one chunk, so every slot is filled.
        Ok(out.into_iter().flatten().collect())
    }

    fn embed_images(&self, images: &[Image]) -> Result<Vec<Embedding>> {
        let side = self.image_side();
        let patch = self.config.patch_size();
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(self.batch()) {
            let mut rows = Vec::new();
            for image in chunk {
                let crop = preprocess::clip_crop(image, side)?;
                preprocess::patch_rows(&crop, patch, &mut rows);
            }
            out.extend(to_embeddings(self.model.encode_images(rows, chunk.len())?)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_embedder_can_be_shared_across_threads() {
        assert_send_sync::<ClipEmbedder>();
    }

    #[test]
    fn model_files_have_the_hugging_face_names() {
        let files = ModelFiles::in_dir(Path::new("m"));
        assert_eq!(files.config, Path::new("m/config.json"));
        assert_eq!(files.weights, Path::new("m/model.safetensors"));
        assert_eq!(files.tokenizer, Path::new("m/tokenizer.json"));
    }
}
