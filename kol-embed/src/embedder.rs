//! The [`Embedder`] trait: what search and planning code needs from an embedding model.

use kol_core::Embedding;

use crate::error::{EmbedError, Result};
use crate::image::Image;

/// Turns briefs (text) and pictures into embeddings that live in one space, so a brief can be
/// compared with creators' images by cosine distance.
///
/// [`ClipEmbedder`](crate::ClipEmbedder) implements it locally; a caller can implement it over
/// a remote embedding service or a cache, reporting its own failures as
/// [`EmbedError::Backend`]. The trait is object safe, so code can take `&dyn Embedder`.
///
/// Contract for implementers: the batch methods return exactly one embedding per input, in
/// input order, and an empty batch gives an empty vector. Embeddings should be L2-normalized
/// (unit length), as CLIP's are, so dot products and cosine similarities coincide.
pub trait Embedder {
    /// Embeds each text, in order.
    ///
    /// # Errors
    /// Whatever the implementation cannot do; [`ClipEmbedder`](crate::ClipEmbedder) fails only
    /// on a broken model (see [`EmbedError`]).
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Embedding>>;

    /// Embeds each picture, in order.
    ///
    /// # Errors
    /// As [`Embedder::embed_texts`].
    fn embed_images(&self, images: &[Image]) -> Result<Vec<Embedding>>;

    /// Embeds one text: a batch of one.
    ///
    /// # Errors
    /// As [`Embedder::embed_texts`].
    fn embed_text(&self, text: &str) -> Result<Embedding> {
        single(self.embed_texts(&[text])?)
    }

    /// Embeds one picture: a batch of one.
    ///
    /// # Errors
    /// As [`Embedder::embed_images`].
    fn embed_image(&self, image: &Image) -> Result<Embedding> {
        single(self.embed_images(std::slice::from_ref(image))?)
    }
}

/// The only element of a batch of one, or a [`EmbedError::Backend`] naming the broken contract.
fn single(mut batch: Vec<Embedding>) -> Result<Embedding> {
    match (batch.pop(), batch.is_empty()) {
        (Some(embedding), true) => Ok(embedding),
        _ => Err(EmbedError::Backend(
            format!(
                "an embedder returned {} embeddings for one input",
                batch.len() + 1
            )
            .into(),
        )),
    }
}

impl<E: Embedder + ?Sized> Embedder for &E {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Embedding>> {
        (**self).embed_texts(texts)
    }

    fn embed_images(&self, images: &[Image]) -> Result<Vec<Embedding>> {
        (**self).embed_images(images)
    }
}

impl<E: Embedder + ?Sized> Embedder for Box<E> {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Embedding>> {
        (**self).embed_texts(texts)
    }

    fn embed_images(&self, images: &[Image]) -> Result<Vec<Embedding>> {
        (**self).embed_images(images)
    }
}

impl<E: Embedder + ?Sized> Embedder for std::sync::Arc<E> {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Embedding>> {
        (**self).embed_texts(texts)
    }

    fn embed_images(&self, images: &[Image]) -> Result<Vec<Embedding>> {
        (**self).embed_images(images)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in remote service: embeds a text as a basis vector chosen by its length, and
    /// can be told to break the one-per-input contract.
    struct Fake {
        extra: bool,
    }

    fn basis(i: usize) -> Embedding {
        let mut v = vec![0.0; Embedding::DIM];
        v[i % Embedding::DIM] = 1.0;
        Embedding::new(v).unwrap()
    }

    impl Embedder for Fake {
        fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Embedding>> {
            let mut out: Vec<_> = texts.iter().map(|t| basis(t.len())).collect();
            if self.extra {
                out.push(basis(0));
            }
            Ok(out)
        }

        fn embed_images(&self, images: &[Image]) -> Result<Vec<Embedding>> {
            Ok(images.iter().map(|i| basis(i.width() as usize)).collect())
        }
    }

    #[test]
    fn single_methods_use_the_batch_methods() {
        let fake = Fake { extra: false };
        assert_eq!(fake.embed_text("abc").unwrap(), basis(3));
        let image = Image::from_rgb8(7, 1, vec![0; 21]).unwrap();
        assert_eq!(fake.embed_image(&image).unwrap(), basis(7));
    }

    #[test]
    fn a_broken_contract_is_an_error_not_a_panic() {
        let fake = Fake { extra: true };
        let err = fake.embed_text("abc").unwrap_err();
        assert!(matches!(err, EmbedError::Backend(_)), "{err}");
        assert!(err.to_string().contains("2 embeddings"), "{err}");
    }

    #[test]
    fn works_through_dyn_references_boxes_and_arcs() {
        let boxed: Box<dyn Embedder> = Box::new(Fake { extra: false });
        assert_eq!(boxed.embed_text("ab").unwrap(), basis(2));
        let by_ref: &dyn Embedder = &boxed;
        assert_eq!(
            by_ref.embed_texts(&["a", ""]).unwrap(),
            vec![basis(1), basis(0)]
        );
        let arc = std::sync::Arc::new(Fake { extra: false });
        assert_eq!(arc.embed_text("abcd").unwrap(), basis(4));
    }
}
