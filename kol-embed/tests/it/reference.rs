//! kol-embed against transformers: a tiny random CLIPModel saved by transformers, and what
//! transformers, tokenizers and Pillow computed for fixed inputs (scripts/make_tiny_clip.py).

// Test helpers outside `#[test]` functions may unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{ScratchModel, max_abs_diff, reference, reference_dir, tiny_clip};
use kol_embed::{ClipEmbedder, Embedder, Image, preprocess};

#[test]
fn token_ids_match_the_python_tokenizer() {
    let r = reference();
    let tokenizer = tiny_clip().tokenizer();
    assert_eq!(
        (tokenizer.bos_id(), tokenizer.eos_id()),
        (r.bos_id, r.eos_id)
    );
    assert_eq!(tokenizer.max_len(), 77);
    for case in &r.token_cases {
        let ids = tokenizer.encode(&case.text).unwrap();
        assert_eq!(ids, case.input_ids, "token ids of {:?}", case.text);
    }
    // The cases include Thai, a text truncated to 77 ids, and the empty text.
    assert!(r.token_cases.iter().any(|c| c.text.contains("กรุงเทพ")));
    assert!(r.token_cases.iter().any(|c| c.input_ids.len() == 77));
    assert!(r.token_cases.iter().any(|c| c.input_ids.len() == 2));
}

#[test]
fn text_embeddings_match_transformers_singly_and_batched() {
    let r = reference();
    let clip = tiny_clip();
    let texts: Vec<&str> = r.texts.iter().map(|t| t.text.as_str()).collect();
    let batched = clip.embed_texts(&texts).unwrap();
    assert_eq!(batched.len(), texts.len());
    for (case, from_batch) in r.texts.iter().zip(&batched) {
        assert_eq!(clip.tokenizer().encode(&case.text).unwrap(), case.input_ids);
        let single = clip.embed_text(&case.text).unwrap();
        let diff = max_abs_diff(single.as_slice(), &case.embedding);
        assert!(diff <= r.tolerance, "{:?}: differs by {diff}", case.text);
        let diff = max_abs_diff(from_batch.as_slice(), &case.embedding);
        assert!(
            diff <= r.tolerance,
            "{:?} in a batch: differs by {diff}",
            case.text
        );
        assert!((single.norm() - 1.0).abs() < 1e-6);
    }
}

#[test]
fn image_crops_equal_pillow_byte_for_byte() {
    let r = reference();
    for case in &r.images {
        let image = Image::open(reference_dir().join(&case.file)).unwrap();
        assert_eq!((image.width(), image.height()), (case.width, case.height));
        let expected = Image::open(reference_dir().join(&case.crop_file)).unwrap();
        let crop = tiny_clip().preprocess(&image).unwrap();
        assert_eq!((crop.width(), crop.height()), (224, 224));
        let differing = crop
            .as_rgb8()
            .iter()
            .zip(expected.as_rgb8())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing, 0,
            "{}: {differing} bytes differ from Pillow",
            case.file
        );
    }
    // The cases include a non-square picture, an upscaled one, transparency and greyscale.
    assert!(r.images.iter().any(|c| c.width != c.height));
    assert!(r.images.iter().any(|c| c.width < 224));
    assert!(r.images.iter().any(|c| c.file.contains("rgba")));
    assert!(r.images.iter().any(|c| c.file.contains("gray")));
    // And colour JPEGs with 4:2:0 chroma subsampling, baseline and progressive.
    assert!(r.images.iter().any(|c| c.file.contains("photo_420")));
    assert!(r.images.iter().any(|c| c.file.contains("progressive_420")));
}

#[test]
fn image_embeddings_match_transformers_singly_and_batched() {
    let r = reference();
    let clip = tiny_clip();
    let images: Vec<Image> = r
        .images
        .iter()
        .map(|c| Image::open(reference_dir().join(&c.file)).unwrap())
        .collect();
    let batched = clip.embed_images(&images).unwrap();
    for ((case, image), from_batch) in r.images.iter().zip(&images).zip(&batched) {
        let single = clip.embed_image(image).unwrap();
        let diff = max_abs_diff(single.as_slice(), &case.embedding);
        assert!(diff <= r.tolerance, "{}: differs by {diff}", case.file);
        let diff = max_abs_diff(from_batch.as_slice(), &case.embedding);
        assert!(
            diff <= r.tolerance,
            "{} in a batch: differs by {diff}",
            case.file
        );
    }
}

#[test]
fn the_tolerance_is_far_below_the_gap_between_inputs() {
    // If every embedding were nearly the same vector, matching within 1e-4 would prove little.
    let r = reference();
    let all: Vec<&[f32]> = r
        .texts
        .iter()
        .map(|t| t.embedding.as_slice())
        .chain(r.images.iter().map(|i| i.embedding.as_slice()))
        .collect();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert!(max_abs_diff(a, b) > 100.0 * r.tolerance);
        }
    }
}

#[test]
fn bicubic_resizes_equal_pillow_byte_for_byte() {
    let r = reference();
    let source = Image::open(reference_dir().join(&r.resize_source)).unwrap();
    for case in &r.resize_cases {
        let expected = Image::open(reference_dir().join(&case.file)).unwrap();
        let resized = preprocess::resize_bicubic(&source, case.width, case.height).unwrap();
        assert_eq!(resized, expected, "{}", case.file);
    }
}

#[test]
fn batches_larger_than_max_batch_are_split_without_changing_results() {
    let r = reference();
    let small = ClipEmbedder::from_dir_with(
        crate::common::model_dir(),
        kol_embed::ClipOptions { max_batch: 2 },
    )
    .unwrap();
    let texts: Vec<&str> = r.texts.iter().map(|t| t.text.as_str()).collect();
    let embeddings = small.embed_texts(&texts).unwrap();
    assert_eq!(embeddings.len(), texts.len());
    for (case, e) in r.texts.iter().zip(&embeddings) {
        assert!(max_abs_diff(e.as_slice(), &case.embedding) <= r.tolerance);
    }
    assert!(small.embed_texts(&[]).unwrap().is_empty());
    assert!(small.embed_images(&[]).unwrap().is_empty());
}

#[test]
fn the_new_eos_pooling_rule_pools_the_same_token() {
    // The fixture's config says eos_token_id = 2 like openai's (pool at the largest id); with
    // the real end-of-text id transformers pools at its first occurrence: the same position.
    let r = reference();
    let scratch = ScratchModel::new("eos-rule");
    scratch.edit_config(|c| c["text_config"]["eos_token_id"] = r.eos_id.into());
    let clip = ClipEmbedder::from_dir(&scratch.dir).unwrap();
    assert_eq!(
        clip.config().eos_pooling(),
        kol_embed::EosPooling::FirstOf(r.eos_id)
    );
    for case in &r.texts {
        let e = clip.embed_text(&case.text).unwrap();
        assert!(max_abs_diff(e.as_slice(), &case.embedding) <= r.tolerance);
    }
}

mod properties {
    use crate::common::tiny_clip;
    use kol_embed::Embedder;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any text, however long or strange, becomes start token, BPE tokens, end token: at
        /// most 77 ids, all inside the vocabulary, and a unit-length embedding.
        #[test]
        fn any_text_is_framed_truncated_and_embedded(text in "\\PC{0,200}") {
            let clip = tiny_clip();
            let tokenizer = clip.tokenizer();
            let ids = tokenizer.encode(&text).unwrap();
            prop_assert!(ids.len() >= 2 && ids.len() <= 77, "{} ids", ids.len());
            prop_assert_eq!(ids[0], tokenizer.bos_id());
            prop_assert_eq!(*ids.last().unwrap(), tokenizer.eos_id());
            prop_assert!(ids.iter().all(|&id| (id as usize) < clip.config().vocab_size()));
            let embedding = clip.embed_text(&text).unwrap();
            prop_assert!((embedding.norm() - 1.0).abs() < 1e-5);
        }
    }
}
