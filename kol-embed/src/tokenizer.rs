//! CLIP's byte-level BPE tokenizer, read from a Hugging Face `tokenizer.json`.
//!
//! The file is interpreted by Hugging Face's own `tokenizers` crate (pure Rust, with its
//! `fancy-regex` backend instead of Oniguruma), so the normalizer (NFC, whitespace collapsing,
//! lower-casing), the CLIP split regex, the byte-level mapping, the BPE merges with their
//! `</w>` end-of-word suffix and the start/end tokens are exactly those Python's fast
//! tokenizer applies to the same file. This module adds CLIP's truncation to 77 tokens, which
//! keeps the end token, and checks that the file really is a CLIP tokenizer.

use std::path::{Path, PathBuf};

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::error::{EmbedError, Result};

/// CLIP's start-of-text token.
pub const START_OF_TEXT: &str = "<|startoftext|>";
/// CLIP's end-of-text token (also its padding and unknown token).
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// A CLIP tokenizer: text to token ids, `<|startoftext|>` first and `<|endoftext|>` last, at
/// most `max_len` ids (77 for CLIP).
#[derive(Clone)]
pub struct ClipTokenizer {
    inner: Tokenizer,
    path: PathBuf,
    bos: u32,
    eos: u32,
    max_len: usize,
}

impl ClipTokenizer {
    /// Reads `tokenizer.json`, truncating encodings to `max_len` ids (CLIP's context is 77).
    ///
    /// # Errors
    /// [`EmbedError::MissingFile`] / [`EmbedError::Io`] when the file cannot be read;
    /// [`EmbedError::MalformedTokenizer`] when it is not a tokenizer, has no CLIP start and end
    /// tokens, does not add them around a text, or `max_len < 2`.
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self> {
        let bytes = EmbedError::read_file(path)?;
        let malformed = |reason: String| EmbedError::MalformedTokenizer {
            path: path.to_path_buf(),
            reason,
        };
        if max_len < 2 {
            return Err(malformed(format!(
                "cannot truncate to {max_len} tokens: the start and end tokens need two"
            )));
        }
        let mut inner = Tokenizer::from_bytes(&bytes).map_err(|e| malformed(e.to_string()))?;
        inner
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| malformed(e.to_string()))?;
        inner.with_padding(None);
        let id_of = |token: &str| {
            inner
                .token_to_id(token)
                .ok_or_else(|| malformed(format!("no {token} token in the vocabulary")))
        };
        let tokenizer = Self {
            bos: id_of(START_OF_TEXT)?,
            eos: id_of(END_OF_TEXT)?,
            inner,
            path: path.to_path_buf(),
            max_len,
        };
        // CLIP's post-processor wraps every text in the start and end tokens; a tokenizer.json
        // without it would silently give the model unpooled garbage.
        let empty = tokenizer.encode("")?;
        if empty != [tokenizer.bos, tokenizer.eos] {
            return Err(malformed(format!(
                "the empty text encodes to {empty:?}, expected [{}, {}]: \
                 the post_processor must add {START_OF_TEXT} and {END_OF_TEXT}",
                tokenizer.bos, tokenizer.eos
            )));
        }
        Ok(tokenizer)
    }

    /// Token ids of `text`: `<|startoftext|>`, the BPE tokens, `<|endoftext|>`, truncated to
    /// [`ClipTokenizer::max_len`] ids with the end token kept.
    ///
    /// # Errors
    /// [`EmbedError::MalformedTokenizer`] if the tokenizer fails (which a valid CLIP
    /// `tokenizer.json` does not do on any text).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding =
            self.inner
                .encode_fast(text, true)
                .map_err(|e| EmbedError::MalformedTokenizer {
                    path: self.path.clone(),
                    reason: format!("cannot encode {text:?}: {e}"),
                })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Id of `<|startoftext|>`.
    pub fn bos_id(&self) -> u32 {
        self.bos
    }

    /// Id of `<|endoftext|>`.
    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    /// The most ids [`ClipTokenizer::encode`] returns.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl std::fmt::Debug for ClipTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The vocabulary would drown every log line.
        f.debug_struct("ClipTokenizer")
            .field("path", &self.path)
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .field("max_len", &self.max_len)
            .finish_non_exhaustive()
    }
}
