//! Broken model folders and pictures give typed errors that name the file (and the tensor).

// Test helpers outside `#[test]` functions may unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use crate::common::ScratchModel;
use candle_core::{Device, Tensor};
use kol_embed::{ClipEmbedder, EmbedError, Image};

fn load_error(scratch: &ScratchModel) -> EmbedError {
    ClipEmbedder::from_dir(&scratch.dir).unwrap_err()
}

/// Checks the error's variant (by `matches`) and that its message starts with the file path.
fn check(err: EmbedError, file: &std::path::Path, variant_ok: bool, needle: &str) {
    let msg = err.to_string();
    assert!(variant_ok, "unexpected variant: {err:?}");
    assert!(
        msg.starts_with(&file.display().to_string()),
        "{msg} should start with {}",
        file.display()
    );
    assert!(msg.contains(needle), "{msg} should mention {needle}");
}

#[test]
fn each_missing_file_is_named() {
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        let scratch = ScratchModel::new(&format!("missing-{file}"));
        std::fs::remove_file(scratch.path(file)).unwrap();
        let err = load_error(&scratch);
        let ok = matches!(&err, EmbedError::MissingFile { path } if path == &scratch.path(file));
        check(err, &scratch.path(file), ok, "not found");
    }
}

#[test]
fn malformed_files_are_named() {
    for (file, content, needle) in [
        (
            "config.json",
            "{\"projection_dim\": ",
            "malformed model config",
        ),
        ("tokenizer.json", "{\"model\": 3}", "malformed tokenizer"),
        (
            "model.safetensors",
            "not a safetensors file",
            "malformed weights",
        ),
    ] {
        let scratch = ScratchModel::new(&format!("malformed-{file}"));
        std::fs::write(scratch.path(file), content).unwrap();
        let err = load_error(&scratch);
        let ok = matches!(
            err,
            EmbedError::MalformedConfig { .. }
                | EmbedError::MalformedTokenizer { .. }
                | EmbedError::MalformedWeights { .. }
        );
        check(err, &scratch.path(file), ok, needle);
    }
}

#[test]
fn a_model_with_another_projection_width_is_refused() {
    let scratch = ScratchModel::new("projection");
    scratch.edit_config(|c| c["projection_dim"] = 768.into());
    let err = load_error(&scratch);
    let ok = matches!(
        err,
        EmbedError::ProjectionDim {
            found: 768,
            expected: 512,
            ..
        }
    );
    check(err, &scratch.path("config.json"), ok, "768");
}

#[test]
fn a_config_that_disagrees_with_the_weights_names_the_tensor() {
    let scratch = ScratchModel::new("config-vs-weights");
    scratch.edit_config(|c| c["text_config"]["intermediate_size"] = 81.into());
    let err = load_error(&scratch);
    let ok = matches!(
        &err,
        EmbedError::TensorShape { name, expected, actual, .. }
            if name == "text_model.encoder.layers.0.mlp.fc1.weight"
                && expected == &[81, 48] && actual == &[80, 48]
    );
    check(
        err,
        &scratch.path("model.safetensors"),
        ok,
        "mlp.fc1.weight",
    );
}

/// Rewrites `model.safetensors` after `edit` changes its tensors.
fn edit_weights(scratch: &ScratchModel, edit: impl FnOnce(&mut HashMap<String, Tensor>)) {
    let path = scratch.path("model.safetensors");
    let mut tensors = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    edit(&mut tensors);
    candle_core::safetensors::save(&tensors, &path).unwrap();
}

#[test]
fn a_tensor_of_the_wrong_shape_is_named() {
    let scratch = ScratchModel::new("wrong-shape");
    let name = "vision_model.encoder.layers.1.self_attn.k_proj.weight";
    edit_weights(&scratch, |t| {
        t.insert(
            name.to_owned(),
            Tensor::zeros((40, 41), candle_core::DType::F32, &Device::Cpu).unwrap(),
        );
    });
    let err = load_error(&scratch);
    let ok = matches!(&err, EmbedError::TensorShape { name: n, .. } if n == name);
    check(err, &scratch.path("model.safetensors"), ok, name);
}

#[test]
fn a_missing_tensor_is_named() {
    let scratch = ScratchModel::new("missing-tensor");
    let name = "text_model.final_layer_norm.bias";
    edit_weights(&scratch, |t| {
        t.remove(name);
    });
    let err = load_error(&scratch);
    let ok = matches!(&err, EmbedError::MissingTensor { name: n, .. } if n == name);
    check(err, &scratch.path("model.safetensors"), ok, name);
}

#[test]
fn half_precision_weights_load() {
    // Checkpoints are often stored in f16; they are widened to f32 on load.
    let scratch = ScratchModel::new("f16");
    edit_weights(&scratch, |t| {
        for tensor in t.values_mut() {
            *tensor = tensor.to_dtype(candle_core::DType::F16).unwrap();
        }
    });
    let clip = ClipEmbedder::from_dir(&scratch.dir).unwrap();
    let r = crate::common::reference();
    let e = kol_embed::Embedder::embed_text(&clip, &r.texts[0].text).unwrap();
    // Rounding every weight to f16 moves the result, but not far.
    let diff = crate::common::max_abs_diff(e.as_slice(), &r.texts[0].embedding);
    assert!(diff < 1e-2, "{diff}");
}

#[test]
fn a_tokenizer_without_start_and_end_tokens_is_refused() {
    let scratch = ScratchModel::new("no-post-processor");
    let path = scratch.path("tokenizer.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["post_processor"] = serde_json::Value::Null;
    std::fs::write(&path, json.to_string()).unwrap();
    let err = load_error(&scratch);
    let ok = matches!(err, EmbedError::MalformedTokenizer { .. });
    check(err, &path, ok, "post_processor");
}

#[test]
fn an_undecodable_picture_is_named() {
    let scratch = ScratchModel::new("bad-picture");
    let path = scratch.path("thumb.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\nthis is not really a png").unwrap();
    let err = Image::open(&path).unwrap_err();
    let ok = matches!(err, EmbedError::ImageDecode { .. });
    check(err, &path, ok, "cannot decode image");
}
