//! The model's shape, read from a Hugging Face CLIP `config.json`, validated, and what it costs
//! to run (FLOPs per text and per picture).

use std::path::Path;

use kol_core::Embedding;
use serde::Deserialize;

use crate::error::{EmbedError, Result};

/// The activation between the two MLP layers of each transformer block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Activation {
    /// `x * sigmoid(1.702 x)`: OpenAI's CLIP models (`"quick_gelu"`).
    QuickGelu,
    /// The exact, erf-based GELU (`"gelu"`), used by some community CLIP checkpoints.
    Gelu,
    /// The tanh approximation of GELU (`"gelu_new"`, `"gelu_pytorch_tanh"`).
    GeluTanh,
}

impl Activation {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "quick_gelu" => Some(Self::QuickGelu),
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Self::GeluTanh),
            _ => None,
        }
    }
}

/// How the text tower picks the token whose state becomes the text's embedding.
///
/// transformers decides this from `text_config.eos_token_id`: the configs written before
/// transformers PR #24773 (including openai/clip-vit-base-patch32's) say `2`, and for them the
/// position of the largest token id is used, which is the end-of-text token in CLIP's
/// vocabulary; newer configs give the real id and the first position holding it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EosPooling {
    /// First position of the largest token id (`eos_token_id == 2`).
    LargestId,
    /// First position of this token id (0 if absent, as `argmax` of all-false gives).
    FirstOf(u32),
}

impl EosPooling {
    /// The position to pool for one tokenized text.
    pub fn position(self, ids: &[u32]) -> usize {
        match self {
            // `argmax` returns the first of equal maxima.
            Self::LargestId => {
                ids.iter()
                    .enumerate()
                    .fold((0, None), |(best, max), (i, &id)| match max {
                        Some(m) if id <= m => (best, max),
                        _ => (i, Some(id)),
                    })
                    .0
            }
            Self::FirstOf(eos) => ids.iter().position(|&id| id == eos).unwrap_or(0),
        }
    }
}

/// One transformer tower (text or vision): widths, depth and activation.
#[derive(Debug, Clone, PartialEq)]
pub struct TowerConfig {
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the MLP's hidden layer.
    pub intermediate_size: usize,
    /// Number of transformer blocks.
    pub num_layers: usize,
    /// Attention heads per block (divides `hidden_size`).
    pub num_heads: usize,
    /// The MLP activation.
    pub activation: Activation,
    /// Layer-norm epsilon.
    pub layer_norm_eps: f64,
}

/// The shape of a CLIP model: what `config.json` says, checked for consistency.
///
/// Invariants (checked by [`ClipConfig::from_json`]): every size is positive, each tower's
/// heads divide its width, the picture side is a multiple of the patch side, and the
/// projection is [`Embedding::DIM`] wide.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipConfig {
    text: TowerConfig,
    vision: TowerConfig,
    vocab_size: usize,
    max_positions: usize,
    eos_pooling: EosPooling,
    image_size: usize,
    patch_size: usize,
    projection_dim: usize,
}

impl ClipConfig {
    /// The architecture of `openai/clip-vit-base-patch32` (ViT-B/32): text 12 x 512 wide
    /// with 8 heads, vision 12 x 768 wide with 12 heads, 224 px pictures in 32 px patches,
    /// a 49,408-token vocabulary and 77 positions, projected to 512.
    pub fn vit_b_32() -> Self {
        Self {
            text: TowerConfig {
                hidden_size: 512,
                intermediate_size: 2048,
                num_layers: 12,
                num_heads: 8,
                activation: Activation::QuickGelu,
                layer_norm_eps: 1e-5,
            },
            vision: TowerConfig {
                hidden_size: 768,
                intermediate_size: 3072,
                num_layers: 12,
                num_heads: 12,
                activation: Activation::QuickGelu,
                layer_norm_eps: 1e-5,
            },
            vocab_size: 49408,
            max_positions: 77,
            eos_pooling: EosPooling::LargestId,
            image_size: 224,
            patch_size: 32,
            projection_dim: Embedding::DIM,
        }
    }

    /// Reads and validates `config.json`.
    ///
    /// # Errors
    /// [`EmbedError::MissingFile`] / [`EmbedError::Io`] when it cannot be read, otherwise as
    /// [`ClipConfig::from_json`].
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = EmbedError::read_file(path)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| EmbedError::MalformedConfig {
            path: path.to_path_buf(),
            reason: format!("not UTF-8: {e}"),
        })?;
        Self::from_json(text, path)
    }

    /// Parses a Hugging Face `CLIPModel` config. Missing keys take transformers' defaults (those
    /// of ViT-B/32), as transformers does; unknown keys are ignored. `path` names the file in
    /// errors.
    ///
    /// # Errors
    /// [`EmbedError::MalformedConfig`] for invalid JSON, a `model_type` other than `"clip"`, an
    /// unsupported activation or inconsistent sizes; [`EmbedError::ProjectionDim`] when the
    /// model does not project to 512 values.
    pub fn from_json(json: &str, path: &Path) -> Result<Self> {
        let malformed = |reason: String| EmbedError::MalformedConfig {
            path: path.to_path_buf(),
            reason,
        };
        let raw: RawConfig = serde_json::from_str(json).map_err(|e| malformed(e.to_string()))?;
        if let Some(model_type) = &raw.model_type {
            if model_type != "clip" {
                return Err(malformed(format!(
                    "model_type is {model_type:?}, expected \"clip\" (a CLIPModel config)"
                )));
            }
        }
        // Old configs may carry `*_config_dict`, which transformers lets override `*_config`.
        let text = raw.text_config_dict.or(raw.text_config).unwrap_or_default();
        let vision = raw
            .vision_config_dict
            .or(raw.vision_config)
            .unwrap_or_default();
        let projection_dim = raw.projection_dim.unwrap_or(Embedding::DIM);
        if projection_dim != Embedding::DIM {
            return Err(EmbedError::ProjectionDim {
                path: path.to_path_buf(),
                found: projection_dim,
                expected: Embedding::DIM,
            });
        }
        let eos_pooling = match text.eos_token_id {
            Some(2) => EosPooling::LargestId,
            Some(id) => EosPooling::FirstOf(u32::try_from(id).map_err(|_| {
                malformed(format!("text_config.eos_token_id {id} is not a token id"))
            })?),
            None => EosPooling::FirstOf(49407),
        };
        let config = Self {
            text: text.tower("text_config", ClipConfig::vit_b_32().text, &malformed)?,
            vision: vision.tower("vision_config", ClipConfig::vit_b_32().vision, &malformed)?,
            vocab_size: text.vocab_size.unwrap_or(49408),
            max_positions: text.max_position_embeddings.unwrap_or(77),
            eos_pooling,
            image_size: vision.image_size.unwrap_or(224),
            patch_size: vision.patch_size.unwrap_or(32),
            projection_dim,
        };
        if vision.num_channels.unwrap_or(3) != 3 {
            return Err(malformed(
                "vision_config.num_channels must be 3 (RGB)".to_owned(),
            ));
        }
        for (name, value) in [
            ("text_config.vocab_size", config.vocab_size),
            ("text_config.max_position_embeddings", config.max_positions),
            ("vision_config.image_size", config.image_size),
            ("vision_config.patch_size", config.patch_size),
        ] {
            if value == 0 {
                return Err(malformed(format!("{name} must be positive")));
            }
        }
        if config.max_positions < 2 {
            return Err(malformed(
                "text_config.max_position_embeddings must leave room for the start and end tokens"
                    .to_owned(),
            ));
        }
        if config.image_size % config.patch_size != 0 {
            return Err(malformed(format!(
                "vision_config.image_size {} is not a multiple of patch_size {}",
                config.image_size, config.patch_size
            )));
        }
        if config.image_size > 4096 {
            return Err(malformed(format!(
                "vision_config.image_size {} is larger than this crate supports (4096)",
                config.image_size
            )));
        }
        Ok(config)
    }

    /// The text tower.
    pub fn text(&self) -> &TowerConfig {
        &self.text
    }

    /// The vision tower.
    pub fn vision(&self) -> &TowerConfig {
        &self.vision
    }

    /// Number of token ids the text tower knows.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Number of text positions (77 for CLIP): the longest token sequence.
    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// How the text tower picks the pooled token.
    pub fn eos_pooling(&self) -> EosPooling {
        self.eos_pooling
    }

    /// Side of the square picture the vision tower sees, in pixels (224).
    pub fn image_size(&self) -> usize {
        self.image_size
    }

    /// Side of a patch, in pixels (32 for ViT-B/32).
    pub fn patch_size(&self) -> usize {
        self.patch_size
    }

    /// Patches per picture: `(image_size / patch_size)^2`.
    pub fn num_patches(&self) -> usize {
        let grid = self.image_size / self.patch_size;
        grid * grid
    }

    /// Width of the shared embedding space (always [`Embedding::DIM`]).
    pub fn projection_dim(&self) -> usize {
        self.projection_dim
    }

    /// Floating-point operations to embed one text of `tokens` tokens (start and end tokens
    /// included), counting a multiply-add as two and ignoring layer norms, softmax and
    /// activations (a few percent).
    pub fn text_flops(&self, tokens: usize) -> u64 {
        let t = &self.text;
        tower_flops(t, tokens) + 2 * (t.hidden_size * self.projection_dim) as u64
    }

    /// Floating-point operations to embed one picture once preprocessed, counted as
    /// [`ClipConfig::text_flops`] counts them: the patch embedding, the vision tower, the
    /// projection.
    pub fn image_flops(&self) -> u64 {
        let v = &self.vision;
        let patches = self.num_patches();
        let patch_embedding =
            2 * (patches * 3 * self.patch_size * self.patch_size) as u64 * v.hidden_size as u64;
        patch_embedding
            + tower_flops(v, patches + 1)
            + 2 * (v.hidden_size * self.projection_dim) as u64
    }
}

/// FLOPs of a transformer tower over `n` tokens: per block, the four attention projections,
/// the two attention products (scores and weighted sum) and the two MLP layers.
fn tower_flops(t: &TowerConfig, n: usize) -> u64 {
    let (n, d, m) = (n as u64, t.hidden_size as u64, t.intermediate_size as u64);
    let per_layer = 2 * (4 * n * d * d + 2 * n * n * d + 2 * n * d * m);
    per_layer * t.num_layers as u64
}

/// The keys of `config.json` this crate reads; everything else is ignored.
#[derive(Debug, Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    projection_dim: Option<usize>,
    text_config: Option<RawTower>,
    text_config_dict: Option<RawTower>,
    vision_config: Option<RawTower>,
    vision_config_dict: Option<RawTower>,
}

/// One tower's section; every key optional, defaulting as transformers does.
#[derive(Debug, Default, Deserialize)]
struct RawTower {
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    hidden_act: Option<String>,
    layer_norm_eps: Option<f64>,
    // Text only.
    vocab_size: Option<usize>,
    max_position_embeddings: Option<usize>,
    eos_token_id: Option<i64>,
    // Vision only.
    image_size: Option<usize>,
    patch_size: Option<usize>,
    num_channels: Option<usize>,
}

impl RawTower {
    fn tower(
        &self,
        section: &str,
        defaults: TowerConfig,
        malformed: &dyn Fn(String) -> EmbedError,
    ) -> Result<TowerConfig> {
        let act_name = self.hidden_act.as_deref().unwrap_or("quick_gelu");
        let activation = Activation::parse(act_name).ok_or_else(|| {
            malformed(format!(
                "{section}.hidden_act {act_name:?} is not supported \
                 (expected quick_gelu, gelu, gelu_new or gelu_pytorch_tanh)"
            ))
        })?;
        let tower = TowerConfig {
            hidden_size: self.hidden_size.unwrap_or(defaults.hidden_size),
            intermediate_size: self.intermediate_size.unwrap_or(defaults.intermediate_size),
            num_layers: self.num_hidden_layers.unwrap_or(defaults.num_layers),
            num_heads: self.num_attention_heads.unwrap_or(defaults.num_heads),
            activation,
            layer_norm_eps: self.layer_norm_eps.unwrap_or(defaults.layer_norm_eps),
        };
        for (name, value) in [
            ("hidden_size", tower.hidden_size),
            ("intermediate_size", tower.intermediate_size),
            ("num_hidden_layers", tower.num_layers),
            ("num_attention_heads", tower.num_heads),
        ] {
            if value == 0 {
                return Err(malformed(format!("{section}.{name} must be positive")));
            }
        }
        if tower.hidden_size % tower.num_heads != 0 {
            return Err(malformed(format!(
                "{section}.hidden_size {} is not a multiple of num_attention_heads {}",
                tower.hidden_size, tower.num_heads
            )));
        }
        if !(tower.layer_norm_eps.is_finite() && tower.layer_norm_eps > 0.0) {
            return Err(malformed(format!(
                "{section}.layer_norm_eps must be a positive number"
            )));
        }
        Ok(tower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ClipConfig> {
        ClipConfig::from_json(json, Path::new("dir/config.json"))
    }

    /// The keys of openai/clip-vit-base-patch32's config.json that matter, in its format
    /// (old transformers: nulls, `*_config_dict`, many unused keys).
    const VIT_B_32_CONFIG: &str = r#"{
      "_name_or_path": "openai/clip-vit-base-patch32",
      "architectures": ["CLIPModel"],
      "initializer_factor": 1.0,
      "logit_scale_init_value": 2.6592,
      "model_type": "clip",
      "projection_dim": 512,
      "text_config": {
        "architectures": null, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1,
        "hidden_act": "quick_gelu", "hidden_size": 512, "intermediate_size": 2048,
        "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
        "num_attention_heads": 8, "num_hidden_layers": 12, "projection_dim": 512,
        "torch_dtype": null, "vocab_size": 49408, "id2label": {"0": "LABEL_0"}
      },
      "text_config_dict": null,
      "transformers_version": null,
      "vision_config": {
        "bos_token_id": null, "eos_token_id": null, "hidden_act": "quick_gelu",
        "hidden_size": 768, "image_size": 224, "intermediate_size": 3072,
        "layer_norm_eps": 1e-05, "model_type": "clip_vision_model", "num_attention_heads": 12,
        "num_hidden_layers": 12, "patch_size": 32, "projection_dim": 512
      },
      "vision_config_dict": null
    }"#;

    #[test]
    fn reads_the_real_vit_b_32_config() {
        assert_eq!(parse(VIT_B_32_CONFIG).unwrap(), ClipConfig::vit_b_32());
    }

    #[test]
    fn missing_keys_take_transformers_defaults() {
        let c = parse(r#"{"text_config": {"eos_token_id": 49407}}"#).unwrap();
        assert_eq!(c.eos_pooling(), EosPooling::FirstOf(49407));
        assert_eq!(c.vision(), ClipConfig::vit_b_32().vision());
        assert_eq!(c.num_patches(), 49);
    }

    #[test]
    fn rejects_bad_configs_naming_the_file() {
        let check = |json: &str, needle: &str| {
            let err = parse(json).unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with("dir/config.json: "), "{msg}");
            assert!(msg.contains(needle), "{msg} should mention {needle}");
        };
        check("{not json", "malformed model config");
        check(r#"{"model_type": "siglip"}"#, "siglip");
        check(r#"{"text_config": {"hidden_act": "relu"}}"#, "relu");
        check(
            r#"{"vision_config": {"hidden_size": 100, "num_attention_heads": 12}}"#,
            "not a multiple of num_attention_heads",
        );
        check(
            r#"{"vision_config": {"patch_size": 30}}"#,
            "not a multiple of patch_size",
        );
        check(
            r#"{"text_config": {"num_hidden_layers": 0}}"#,
            "must be positive",
        );
        check(
            r#"{"text_config": {"layer_norm_eps": -1}}"#,
            "layer_norm_eps",
        );
        check(r#"{"text_config": {"eos_token_id": -5}}"#, "eos_token_id");
        check(r#"{"text_config": {"hidden_size": "wide"}}"#, "malformed");
        assert!(matches!(
            parse(r#"{"projection_dim": 768}"#),
            Err(EmbedError::ProjectionDim { found: 768, .. })
        ));
    }

    #[test]
    fn pooling_follows_transformers() {
        // BOS 49406, words, EOS 49407, padding with EOS.
        let ids = [49406, 320, 1125, 49407, 49407];
        assert_eq!(EosPooling::LargestId.position(&ids), 3);
        assert_eq!(EosPooling::FirstOf(49407).position(&ids), 3);
        // A token added after EOS in the vocabulary: the legacy rule picks it, the new one
        // still finds EOS.
        let ids = [49406, 49408, 49407];
        assert_eq!(EosPooling::LargestId.position(&ids), 1);
        assert_eq!(EosPooling::FirstOf(49407).position(&ids), 2);
        // No EOS at all: argmax of all-false is 0.
        assert_eq!(EosPooling::FirstOf(7).position(&[1, 2, 3]), 0);
        assert_eq!(EosPooling::LargestId.position(&[]), 0);
    }

    #[test]
    fn vit_b_32_costs_what_the_literature_says() {
        // ViT-B/32 image encoder: about 4.4 GMACs, i.e. 8.8 GFLOPs.
        let c = ClipConfig::vit_b_32();
        let gflops = c.image_flops() as f64 / 1e9;
        assert!((8.5..9.0).contains(&gflops), "{gflops}");
        // Text: about 75 MFLOPs per token at short lengths (37.7M weights in the blocks).
        let per_token = c.text_flops(10) as f64 / 10.0 / 1e9;
        assert!((0.07..0.08).contains(&per_token), "{per_token}");
    }
}
