//! The one error type of `kol-embed`: what can go wrong loading a model or embedding an input.

use std::path::PathBuf;

/// Everything that can go wrong while loading a CLIP model or turning text and pictures into
/// embeddings.
///
/// Every variant about a file carries its path, so the `Display` of the error says which of
/// `config.json`, `model.safetensors` or `tokenizer.json` (or which picture) is at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// A file the model needs does not exist (for example a model folder without
    /// `model.safetensors`). See [`HOW_TO_GET_THE_MODEL`](crate::HOW_TO_GET_THE_MODEL).
    #[error("{path}: file not found")]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// A file exists but could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is not JSON, lacks a section, or describes a model this crate cannot run.
    #[error("{path}: malformed model config: {reason}")]
    MalformedConfig {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The model projects to a width other than the 512 values a kol-core
    /// [`Embedding`](kol_core::Embedding) holds (for example a ViT-L/14 model, which gives 768).
    #[error(
        "{path}: projection_dim is {found}, but embeddings here have {expected} values \
         (CLIP ViT-B/32 and ViT-B/16 models project to 512)"
    )]
    ProjectionDim {
        /// The config file.
        path: PathBuf,
        /// The `projection_dim` it declares.
        found: usize,
        /// Always [`Embedding::DIM`](kol_core::Embedding::DIM).
        expected: usize,
    },
    /// `model.safetensors` is not a readable safetensors file, or a tensor in it has a type that
    /// cannot be converted to `f32`.
    #[error("{path}: malformed weights: {reason}")]
    MalformedWeights {
        /// The weights file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tensor the model needs is absent from `model.safetensors`.
    #[error("{path}: missing tensor {name:?}")]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name, e.g. `"text_model.final_layer_norm.weight"`.
        name: String,
    },
    /// A tensor has a shape other than the one `config.json` implies.
    #[error("{path}: tensor {name:?} has shape {actual:?}, expected {expected:?} from config.json")]
    TensorShape {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The shape `config.json` implies.
        expected: Vec<usize>,
        /// The shape in the file.
        actual: Vec<usize>,
    },
    /// `tokenizer.json` cannot be read as a Hugging Face tokenizer, or does not add CLIP's
    /// `<|startoftext|>` and `<|endoftext|>` tokens.
    #[error("{path}: malformed tokenizer: {reason}")]
    MalformedTokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The tokenizer produced an id outside the model's vocabulary (the tokenizer and the model
    /// come from different checkpoints).
    #[error(
        "token id {id} is outside the model's vocabulary of {vocab_size} (tokenizer.json does not match config.json)"
    )]
    TokenOutOfVocabulary {
        /// The offending id.
        id: u32,
        /// `text_config.vocab_size`.
        vocab_size: usize,
    },
    /// A picture could not be decoded (unknown format, truncated or corrupt data).
    #[error("{source_name}: cannot decode image: {reason}")]
    ImageDecode {
        /// Where the bytes came from: a path, or the name the caller gave.
        source_name: String,
        /// The decoder's explanation.
        reason: String,
    },
    /// Raw pixels given to [`Image::from_rgb8`](crate::Image::from_rgb8) do not describe a
    /// picture (a zero side, or a buffer of the wrong length).
    #[error("invalid image: {reason}")]
    InvalidImage {
        /// What is wrong.
        reason: String,
    },
    /// The tensor runtime failed while running the model. This points at a bug or at a model
    /// file that passed validation but cannot be evaluated; the message is candle's.
    #[error("model evaluation failed: {reason}")]
    Inference {
        /// The runtime's explanation.
        reason: String,
    },
    /// The model produced a vector that is not a valid embedding (NaN or all zeros), which
    /// happens with corrupt weights.
    #[error("the model produced an invalid embedding: {0}")]
    Embedding(#[from] kol_core::CoreError),
    /// An [`Embedder`](crate::Embedder) implemented outside this crate (a remote embedding
    /// service, a cache...) failed; the source says why.
    #[error("embedding backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl EmbedError {
    /// Reads `path` fully, telling a missing file apart from other I/O errors.
    pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
        std::fs::read(path).map_err(|source| Self::io(path, source))
    }

    /// Wraps an I/O error about `path`.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::MissingFile {
                path: path.to_path_buf(),
            }
        } else {
            Self::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    /// Wraps a candle error raised while evaluating the model.
    pub(crate) fn inference(error: candle_core::Error) -> Self {
        Self::Inference {
            reason: error.to_string(),
        }
    }
}

/// `Result` with [`EmbedError`] as the error.
pub type Result<T, E = EmbedError> = std::result::Result<T, E>;
