//! The CLIP transformer (text and vision towers, projections) on candle tensors, and loading
//! its weights from `model.safetensors` with every shape checked against `config.json`.
//!
//! The layout follows transformers' `modeling_clip.py`: pre-layer-norm blocks
//! (`x + attn(ln1(x))`, then `x + mlp(ln2(x))`), a causal mask in the text tower, pooling at
//! the end-of-text token (text) or the class token (vision), a final layer norm and a linear
//! projection without bias. Activations are kept as `[tokens, width]` matrices so every linear
//! layer is one matrix product.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Tensor};

use crate::config::{Activation, ClipConfig, EosPooling, TowerConfig};
use crate::error::{EmbedError, Result};

type CResult<T> = candle_core::Result<T>;

/// The tensors of a safetensors file, taken out one by one with their shapes checked.
struct Weights {
    path: PathBuf,
    tensors: HashMap<String, Tensor>,
}

impl Weights {
    fn load(path: &Path, device: &Device) -> Result<Self> {
        let bytes = EmbedError::read_file(path)?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| {
            EmbedError::MalformedWeights {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            tensors,
        })
    }

    /// The tensor `name`, which must have `shape`, as `f32`.
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let tensor = self
            .tensors
            .remove(name)
            .ok_or_else(|| EmbedError::MissingTensor {
                path: self.path.clone(),
                name: name.to_owned(),
            })?;
        if tensor.dims() != shape {
            return Err(EmbedError::TensorShape {
                path: self.path.clone(),
                name: name.to_owned(),
                expected: shape.to_vec(),
                actual: tensor.dims().to_vec(),
            });
        }
        match tensor.dtype() {
            DType::F32 => Ok(tensor),
            DType::F16 | DType::BF16 | DType::F64 => {
                tensor
                    .to_dtype(DType::F32)
                    .map_err(|e| EmbedError::MalformedWeights {
                        path: self.path.clone(),
                        reason: format!("tensor {name:?}: {e}"),
                    })
            }
            other => Err(EmbedError::MalformedWeights {
                path: self.path.clone(),
                reason: format!("tensor {name:?} has type {other:?}, expected a float type"),
            }),
        }
    }

    /// A `Linear` layer stored as transformers does (`weight: [out, in]`, `bias: [out]`).
    fn linear(
        &mut self,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        bias: bool,
    ) -> Result<Linear> {
        let weight = self.take(&format!("{prefix}.weight"), &[outputs, inputs])?;
        let bias = if bias {
            Some(self.take(&format!("{prefix}.bias"), &[outputs])?)
        } else {
            None
        };
        Linear::new(&weight, bias).map_err(EmbedError::inference)
    }

    fn layer_norm(&mut self, prefix: &str, width: usize, eps: f64) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: self.take(&format!("{prefix}.weight"), &[width])?,
            bias: self.take(&format!("{prefix}.bias"), &[width])?,
            eps,
        })
    }
}

/// `y = x W^T + b`, with `W^T` stored contiguous so the product reads it row by row.
#[derive(Debug)]
struct Linear {
    weight_t: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    fn new(weight: &Tensor, bias: Option<Tensor>) -> CResult<Self> {
        Ok(Self {
            weight_t: weight.t()?.contiguous()?,
            bias,
        })
    }

    /// `x: [n, in]` to `[n, out]`.
    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let y = x.matmul(&self.weight_t)?;
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

/// Layer normalization over the last dimension, two-pass (mean, then variance of the centred
/// values) like PyTorch's, rather than the one-pass `E[x^2] - E[x]^2` that loses precision on
/// CLIP's large residual activations.
#[derive(Debug)]
struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let inv_std = (var + self.eps)?.sqrt()?.recip()?;
        centred
            .broadcast_mul(&inv_std)?
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// One pre-layer-norm transformer block.
#[derive(Debug)]
struct Block {
    layer_norm1: LayerNorm,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    layer_norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

/// A stack of blocks with its shape.
#[derive(Debug)]
struct Encoder {
    blocks: Vec<Block>,
    hidden: usize,
    heads: usize,
    activation: Activation,
}

impl Encoder {
    fn load(w: &mut Weights, prefix: &str, t: &TowerConfig) -> Result<Self> {
        let (d, m, eps) = (t.hidden_size, t.intermediate_size, t.layer_norm_eps);
        let blocks = (0..t.num_layers)
            .map(|i| {
                let p = format!("{prefix}.encoder.layers.{i}");
                Ok(Block {
                    layer_norm1: w.layer_norm(&format!("{p}.layer_norm1"), d, eps)?,
                    q_proj: w.linear(&format!("{p}.self_attn.q_proj"), d, d, true)?,
                    k_proj: w.linear(&format!("{p}.self_attn.k_proj"), d, d, true)?,
                    v_proj: w.linear(&format!("{p}.self_attn.v_proj"), d, d, true)?,
                    out_proj: w.linear(&format!("{p}.self_attn.out_proj"), d, d, true)?,
                    layer_norm2: w.layer_norm(&format!("{p}.layer_norm2"), d, eps)?,
                    fc1: w.linear(&format!("{p}.mlp.fc1"), d, m, true)?,
                    fc2: w.linear(&format!("{p}.mlp.fc2"), m, d, true)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            blocks,
            hidden: d,
            heads: t.num_heads,
            activation: t.activation,
        })
    }

    /// Runs every block over `x: [batch * seq, hidden]`; `mask` (`[seq, seq]`, added to the
    /// attention scores) makes attention causal.
    fn forward(
        &self,
        mut x: Tensor,
        batch: usize,
        seq: usize,
        mask: Option<&Tensor>,
    ) -> CResult<Tensor> {
        for block in &self.blocks {
            let h = block.layer_norm1.forward(&x)?;
            let h = self.attention(block, &h, batch, seq, mask)?;
            x = (x + h)?;
            let h = block.layer_norm2.forward(&x)?;
            let h = block.fc1.forward(&h)?;
            let h = match self.activation {
                Activation::QuickGelu => (&h * candle_nn::ops::sigmoid(&(&h * 1.702)?)?)?,
                Activation::Gelu => h.gelu_erf()?,
                Activation::GeluTanh => h.gelu()?,
            };
            let h = block.fc2.forward(&h)?;
            x = (x + h)?;
        }
        Ok(x)
    }

    fn attention(
        &self,
        block: &Block,
        x: &Tensor,
        batch: usize,
        seq: usize,
        mask: Option<&Tensor>,
    ) -> CResult<Tensor> {
        let head_dim = self.hidden / self.heads;
        let split = |t: Tensor| -> CResult<Tensor> {
            t.reshape((batch, seq, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(block.q_proj.forward(x)?)?;
        let k = split(block.k_proj.forward(x)?)?;
        let v = split(block.v_proj.forward(x)?)?;
        // [batch, heads, seq, seq], scaled after the product as transformers does.
        let scores = (q.matmul(&k.t()?)? * (head_dim as f64).powf(-0.5))?;
        let scores = match mask {
            Some(mask) => scores.broadcast_add(mask)?,
            None => scores,
        };
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch * seq, self.hidden))?;
        block.out_proj.forward(&out)
    }
}

/// The text tower and its projection.
#[derive(Debug)]
struct TextTower {
    token_embedding: Tensor,
    position_embedding: Tensor,
    encoder: Encoder,
    final_layer_norm: LayerNorm,
    projection: Linear,
    vocab_size: usize,
    pooling: EosPooling,
}

/// The vision tower and its projection.
#[derive(Debug)]
struct VisionTower {
    /// The patch convolution as a matrix: `[3 * patch * patch, hidden]`.
    patch_embedding_t: Tensor,
    class_embedding: Tensor,
    position_embedding: Tensor,
    pre_layernorm: LayerNorm,
    encoder: Encoder,
    post_layernorm: LayerNorm,
    projection: Linear,
    patch_values: usize,
    num_patches: usize,
}

/// CLIP's two towers with their projections into the shared space.
#[derive(Debug)]
pub(crate) struct ClipModel {
    text: TextTower,
    vision: VisionTower,
    device: Device,
}

impl ClipModel {
    /// Loads every tensor `config` implies from `weights_path`, checking each shape.
    pub(crate) fn load(config: &ClipConfig, weights_path: &Path) -> Result<Self> {
        let device = Device::Cpu;
        let mut w = Weights::load(weights_path, &device)?;
        let proj = config.projection_dim();

        let t = config.text();
        let text = TextTower {
            token_embedding: w.take(
                "text_model.embeddings.token_embedding.weight",
                &[config.vocab_size(), t.hidden_size],
            )?,
            position_embedding: w.take(
                "text_model.embeddings.position_embedding.weight",
                &[config.max_positions(), t.hidden_size],
            )?,
            encoder: Encoder::load(&mut w, "text_model", t)?,
            final_layer_norm: w.layer_norm(
                "text_model.final_layer_norm",
                t.hidden_size,
                t.layer_norm_eps,
            )?,
            projection: w.linear("text_projection", t.hidden_size, proj, false)?,
            vocab_size: config.vocab_size(),
            pooling: config.eos_pooling(),
        };

        let v = config.vision();
        let patch = config.patch_size();
        let patch_values = 3 * patch * patch;
        let patch_weight = w.take(
            "vision_model.embeddings.patch_embedding.weight",
            &[v.hidden_size, 3, patch, patch],
        )?;
        let vision = VisionTower {
            patch_embedding_t: patch_weight
                .reshape((v.hidden_size, patch_values))
                .and_then(|p| p.t()?.contiguous())
                .map_err(EmbedError::inference)?,
            class_embedding: w.take("vision_model.embeddings.class_embedding", &[v.hidden_size])?,
            position_embedding: w.take(
                "vision_model.embeddings.position_embedding.weight",
                &[config.num_patches() + 1, v.hidden_size],
            )?,
            pre_layernorm: w.layer_norm(
                "vision_model.pre_layrnorm",
                v.hidden_size,
                v.layer_norm_eps,
            )?,
            encoder: Encoder::load(&mut w, "vision_model", v)?,
            post_layernorm: w.layer_norm(
                "vision_model.post_layernorm",
                v.hidden_size,
                v.layer_norm_eps,
            )?,
            projection: w.linear("visual_projection", v.hidden_size, proj, false)?,
            patch_values,
            num_patches: config.num_patches(),
        };
        Ok(Self {
            text,
            vision,
            device,
        })
    }

    /// Projected (not normalized) text features, one row per token sequence. Every sequence
    /// must be non-empty and no longer than the position table.
    pub(crate) fn encode_text(&self, sequences: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        for seq in sequences {
            if let Some(&id) = seq.iter().find(|&&id| id as usize >= self.text.vocab_size) {
                return Err(EmbedError::TokenOutOfVocabulary {
                    id,
                    vocab_size: self.text.vocab_size,
                });
            }
        }
        self.text_forward(sequences)
            .and_then(|t| t.to_vec2::<f32>())
            .map_err(EmbedError::inference)
    }

    fn text_forward(&self, sequences: &[&[u32]]) -> CResult<Tensor> {
        let t = &self.text;
        let batch = sequences.len();
        let seq = sequences.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        // Pad with the last token of each sequence: the causal mask keeps padding, which
        // comes after every real token, out of the real tokens' states.
        let mut ids = Vec::with_capacity(batch * seq);
        let mut pooled_rows = Vec::with_capacity(batch);
        for (i, s) in sequences.iter().enumerate() {
            let pad = s.last().copied().unwrap_or(0);
            ids.extend_from_slice(s);
            ids.extend(std::iter::repeat_n(pad, seq - s.len()));
            pooled_rows.push((i * seq + t.pooling.position(s)) as u32);
        }
        let ids = Tensor::from_vec(ids, batch * seq, &self.device)?;
        let hidden = t.encoder.hidden;
        let x = t
            .token_embedding
            .index_select(&ids, 0)?
            .reshape((batch, seq, hidden))?
            .broadcast_add(&t.position_embedding.narrow(0, 0, seq)?)?
            .reshape((batch * seq, hidden))?;
        let mask = causal_mask(seq, &self.device)?;
        let x = t.encoder.forward(x, batch, seq, Some(&mask))?;
        // Layer norm is per token, so normalizing only the pooled tokens is the same.
        let rows = Tensor::from_vec(pooled_rows, batch, &self.device)?;
        let pooled = x.index_select(&rows, 0)?;
        let pooled = t.final_layer_norm.forward(&pooled)?;
        t.projection.forward(&pooled)
    }

    /// Projected (not normalized) image features from patch rows laid out by
    /// [`patch_rows`](crate::preprocess::patch_rows), `images` pictures of
    /// `num_patches * patch_values` values each.
    pub(crate) fn encode_images(
        &self,
        patch_rows: Vec<f32>,
        images: usize,
    ) -> Result<Vec<Vec<f32>>> {
        self.vision_forward(patch_rows, images)
            .and_then(|t| t.to_vec2::<f32>())
            .map_err(EmbedError::inference)
    }

    fn vision_forward(&self, patch_rows: Vec<f32>, batch: usize) -> CResult<Tensor> {
        let v = &self.vision;
        let hidden = v.encoder.hidden;
        let patches = Tensor::from_vec(
            patch_rows,
            (batch * v.num_patches, v.patch_values),
            &self.device,
        )?;
        let patch_embeds =
            patches
                .matmul(&v.patch_embedding_t)?
                .reshape((batch, v.num_patches, hidden))?;
        let class = v
            .class_embedding
            .reshape((1, 1, hidden))?
            .broadcast_as((batch, 1, hidden))?;
        let seq = v.num_patches + 1;
        let x = Tensor::cat(&[&class, &patch_embeds], 1)?
            .broadcast_add(&v.position_embedding)?
            .reshape((batch * seq, hidden))?;
        let x = v.pre_layernorm.forward(&x)?;
        let x = v.encoder.forward(x, batch, seq, None)?;
        let class_states = x
            .reshape((batch, seq, hidden))?
            .narrow(1, 0, 1)?
            .reshape((batch, hidden))?;
        let pooled = v.post_layernorm.forward(&class_states)?;
        v.projection.forward(&pooled)
    }
}

/// `[seq, seq]`: 0 where a token may attend (itself and earlier ones), the lowest `f32`
/// elsewhere, as transformers' causal mask.
fn causal_mask(seq: usize, device: &Device) -> CResult<Tensor> {
    let values: Vec<f32> = (0..seq)
        .flat_map(|i| (0..seq).map(move |j| if j > i { f32::MIN } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (seq, seq), device)
}
