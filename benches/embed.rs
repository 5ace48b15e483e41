//! Throughput of kol-embed's CLIP embedder: texts and pictures per second at batch sizes 1
//! and 32.
//!
//! Two models:
//! - `tiny`: the tiny random CLIP of kol-embed's test fixture (text 2 x 48 wide, vision
//!   2 x 40 wide). Its time is mostly preprocessing and per-operation overhead.
//! - `vit_b32_random`: a model with exactly ViT-B/32's shapes (text 12 x 512, vision 12 x 768,
//!   151M parameters) and random weights, written to a temporary folder and loaded through
//!   the normal path. Speed does not depend on weight values, so this measures what
//!   openai/clip-vit-base-patch32 costs on this machine without downloading it.
//!
//! Before the measurements it prints a *computed* ViT-B/32 estimate: the tiny model's measured
//! time scaled by the FLOPs ratio of the two architectures (`ClipConfig::text_flops`,
//! `image_flops`). That estimate also scales the tiny model's fixed overheads, so it is a
//! pessimistic bound; the `vit_b32_random` group is the measured figure.
//!
//! A third group, `decode`, times turning JPEG bytes into RGB pixels: kol-embed's
//! libjpeg-turbo-exact decoder (`Image::decode`) next to the `image` crate's decoder it
//! replaced for JPEGs, on the two 4:2:0 JPEG pictures of kol-embed's reference fixture.
//!
//! Run: `cargo bench -p kol-benches --bench embed` (only the decoders:
//! `cargo bench -p kol-benches --bench embed -- decode`).

// A benchmark whose setup fails has nothing to measure: stopping with the reason is right.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kol_embed::{ClipConfig, ClipEmbedder, Embedder, Image};

const BATCHES: [usize; 2] = [1, 32];

fn tiny_model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kol-embed/tests/fixtures/tiny-clip")
}

/// 32 brief-like texts of varied length.
fn briefs() -> Vec<String> {
    let topics = [
        "skincare for sensitive skin, Bangkok",
        "street food review in Chiang Mai night market",
        "fitness coach with home workouts for beginners",
        "สกินแคร์สำหรับผิวแพ้ง่าย กรุงเทพ",
        "budget travel vlog, beaches of Phuket and Krabi",
        "vegan recipes and healthy breakfast ideas",
        "gaming stream, mobile games, Thai commentary",
        "unboxing the new phone and camera tests at night",
    ];
    (0..32)
        .map(|i| format!("{} #{}", topics[i % topics.len()], i))
        .collect()
}

/// A 640 x 640 picture (a typical thumbnail) with smooth gradients and edges.
fn picture(seed: u32) -> Image {
    let (w, h) = (640u32, 640u32);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let v = x
                .wrapping_mul(7)
                .wrapping_add(y.wrapping_mul(3))
                .wrapping_add(seed * 31);
            pixels.extend_from_slice(&[(v % 256) as u8, ((x ^ y) % 256) as u8, (y % 256) as u8]);
        }
    }
    Image::from_rgb8(w, h, pixels).expect("valid picture")
}

fn pictures() -> Vec<Image> {
    (0..32).map(picture).collect()
}

fn bench_model(c: &mut Criterion, name: &str, clip: &ClipEmbedder, samples: usize) {
    let texts = briefs();
    let images = pictures();
    let mut group = c.benchmark_group(format!("embed/{name}"));
    group.sample_size(samples);
    group.warm_up_time(Duration::from_secs(1));
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    for batch in BATCHES {
        group.throughput(Throughput::Elements(batch as u64));
        // Each iteration takes the next `batch` texts (cycling through all 32), so batch 1
        // averages over the same texts as batch 32.
        let mut next = 0;
        group.bench_function(BenchmarkId::new("texts", batch), |b| {
            b.iter(|| {
                let start = next % (refs.len() - batch + 1);
                next += batch;
                clip.embed_texts(black_box(&refs[start..start + batch]))
                    .expect("embeds")
            })
        });
        let image_batch = &images[..batch];
        group.bench_with_input(BenchmarkId::new("images", batch), image_batch, |b, i| {
            b.iter(|| clip.embed_images(black_box(i)).expect("embeds"))
        });
    }
    group.finish();
}

/// Mean time of `f` over `runs` runs after one warm-up run.
fn time_per_run(runs: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed() / runs
}

/// Prints the FLOPs-ratio estimate for ViT-B/32 from quick timings of the tiny model.
fn print_computed_estimate(tiny: &ClipEmbedder) {
    let vit = ClipConfig::vit_b_32();
    let texts = briefs();
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: usize = texts
        .iter()
        .map(|t| tiny.tokenizer().encode(t).expect("tokenizes").len())
        .sum::<usize>()
        / texts.len();
    let images = pictures();
    println!("COMPUTED (not measured) ViT-B/32 estimate = tiny model's time x FLOPs ratio;");
    println!("  {tokens} tokens per text on average (fixture tokenizer)");
    for batch in BATCHES {
        let mut next = 0;
        let t_text = time_per_run(32, || {
            let start = next % (text_refs.len() - batch + 1);
            next += batch;
            black_box(
                tiny.embed_texts(&text_refs[start..start + batch])
                    .expect("embeds"),
            );
        }) / batch as u32;
        let t_image = time_per_run(20, || {
            black_box(tiny.embed_images(&images[..batch]).expect("embeds"));
        }) / batch as u32;
        let text_ratio = vit.text_flops(tokens) as f64 / tiny.config().text_flops(tokens) as f64;
        let image_ratio = vit.image_flops() as f64 / tiny.config().image_flops() as f64;
        println!(
            "  batch {batch:2}: texts {:9.1}/s (tiny {:9.0}/s x 1/{text_ratio:.0}), \
             images {:7.2}/s (tiny {:7.0}/s x 1/{image_ratio:.0})",
            1.0 / (t_text.as_secs_f64() * text_ratio),
            1.0 / t_text.as_secs_f64(),
            1.0 / (t_image.as_secs_f64() * image_ratio),
            1.0 / t_image.as_secs_f64(),
        );
    }
    println!(
        "  ViT-B/32: {:.2} GFLOPs per picture, {:.3} GFLOPs per {tokens}-token text",
        vit.image_flops() as f64 / 1e9,
        vit.text_flops(tokens) as f64 / 1e9
    );
}

/// Deterministic values in `[-scale, scale]` (splitmix64).
fn random_values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// Writes a folder with ViT-B/32's config, random weights of its exact shapes, and the
/// fixture's tokenizer (whose ids all fall inside ViT-B/32's vocabulary).
fn write_random_vit_b32(dir: &Path) {
    std::fs::create_dir_all(dir).expect("temp dir");
    let config = serde_json::json!({
        "model_type": "clip",
        "projection_dim": 512,
        "text_config": {
            "hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8,
            "num_hidden_layers": 12, "max_position_embeddings": 77, "vocab_size": 49408,
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "eos_token_id": 2
        },
        "vision_config": {
            "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
            "num_hidden_layers": 12, "image_size": 224, "patch_size": 32,
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5
        }
    });
    std::fs::write(dir.join("config.json"), config.to_string()).expect("config");
    std::fs::copy(
        tiny_model_dir().join("tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .expect("tokenizer");

    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        (
            "text_model.embeddings.token_embedding.weight".into(),
            vec![49408, 512],
        ),
        (
            "text_model.embeddings.position_embedding.weight".into(),
            vec![77, 512],
        ),
        ("text_model.final_layer_norm.weight".into(), vec![512]),
        ("text_model.final_layer_norm.bias".into(), vec![512]),
        ("text_projection.weight".into(), vec![512, 512]),
        (
            "vision_model.embeddings.patch_embedding.weight".into(),
            vec![768, 3, 32, 32],
        ),
        ("vision_model.embeddings.class_embedding".into(), vec![768]),
        (
            "vision_model.embeddings.position_embedding.weight".into(),
            vec![50, 768],
        ),
        ("vision_model.pre_layrnorm.weight".into(), vec![768]),
        ("vision_model.pre_layrnorm.bias".into(), vec![768]),
        ("vision_model.post_layernorm.weight".into(), vec![768]),
        ("vision_model.post_layernorm.bias".into(), vec![768]),
        ("visual_projection.weight".into(), vec![512, 768]),
    ];
    for (tower, d, m) in [("text_model", 512, 2048), ("vision_model", 768, 3072)] {
        for i in 0..12 {
            let p = format!("{tower}.encoder.layers.{i}");
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                shapes.push((format!("{p}.self_attn.{proj}.weight"), vec![d, d]));
                shapes.push((format!("{p}.self_attn.{proj}.bias"), vec![d]));
            }
            for ln in ["layer_norm1", "layer_norm2"] {
                shapes.push((format!("{p}.{ln}.weight"), vec![d]));
                shapes.push((format!("{p}.{ln}.bias"), vec![d]));
            }
            shapes.push((format!("{p}.mlp.fc1.weight"), vec![m, d]));
            shapes.push((format!("{p}.mlp.fc1.bias"), vec![m]));
            shapes.push((format!("{p}.mlp.fc2.weight"), vec![d, m]));
            shapes.push((format!("{p}.mlp.fc2.bias"), vec![d]));
        }
    }
    let tensors: HashMap<String, Tensor> = shapes
        .into_iter()
        .enumerate()
        .map(|(i, (name, shape))| {
            let n = shape.iter().product();
            let values = if name.contains("norm") && name.ends_with("weight") {
                vec![1.0; n]
            } else {
                random_values(n, i as u64, 0.05)
            };
            let tensor = Tensor::from_vec(values, shape, &Device::Cpu).expect("tensor");
            (name, tensor)
        })
        .collect();
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors")).expect("weights");
}

/// Decoding the fixture's JPEG pictures, with kol-embed's decoder and the image crate's.
fn decode(c: &mut Criterion) {
    let images = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kol-embed/tests/fixtures/tiny-clip-reference/images");
    let mut group = c.benchmark_group("decode");
    group.sample_size(50);
    for name in ["photo_420_333x517.jpg", "thumb_progressive_420_480x270.jpg"] {
        let bytes = std::fs::read(images.join(name)).expect("fixture picture");
        group.bench_with_input(BenchmarkId::new("kol_embed", name), &bytes, |b, bytes| {
            b.iter(|| Image::decode(black_box(bytes), name).expect("decodes"))
        });
        group.bench_with_input(BenchmarkId::new("image_crate", name), &bytes, |b, bytes| {
            b.iter(|| {
                image::load_from_memory(black_box(bytes))
                    .expect("decodes")
                    .into_rgb8()
            })
        });
    }
    group.finish();
}

fn embed(c: &mut Criterion) {
    let tiny = ClipEmbedder::from_dir(tiny_model_dir()).expect("fixture model");
    print_computed_estimate(&tiny);
    bench_model(c, "tiny", &tiny, 30);
    drop(tiny);

    let dir = std::env::temp_dir().join(format!("kol-embed-bench-vit-b32-{}", std::process::id()));
    write_random_vit_b32(&dir);
    let loaded = Instant::now();
    let vit = ClipEmbedder::from_dir(&dir).expect("random ViT-B/32");
    println!("random ViT-B/32 loaded in {:.2?}", loaded.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
    bench_model(c, "vit_b32_random", &vit, 10);
}

criterion_group!(benches, decode, embed);
criterion_main!(benches);
