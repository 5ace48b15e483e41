#!/usr/bin/env python3
"""Build the tiny random CLIP fixture that kol-embed's tests compare against.

Run by hand (never by the tests, never in CI) from the repository root:

    python3 -m venv /tmp/venv-clip
    /tmp/venv-clip/bin/pip install -r kol-embed/scripts/requirements-fixture.txt
    /tmp/venv-clip/bin/python kol-embed/scripts/make_tiny_clip.py

It writes two folders under kol-embed/tests/fixtures/:

* tiny-clip/            the model, in exactly the layout of Hugging Face's
                        openai/clip-vit-base-patch32: config.json, model.safetensors,
                        tokenizer.json. Same architecture (CLIPModel, quick_gelu, pre-LN
                        transformer, 224 px input, 32 px patches, 77 text positions,
                        projection to 512), tiny widths and depths, random weights.
* tiny-clip-reference/  the inputs and what transformers computes for them:
                        reference.json (token ids, L2-normalized embeddings),
                        images/ (input PNGs), crops/ (the 224x224 uint8 picture the image
                        processor feeds the model, recovered from its pixel_values) and
                        resize/ (Pillow bicubic resizes of a small noisy picture) and
                        jpeg/ (JPEGs in many encodings with Pillow's decoding of each
                        as a PNG, for the byte-exact decoder tests).

The JPEG cases Pillow cannot write (4:4:0 and 4:1:1 subsampling, RGB colour space,
non-interleaved scans, 16-bit quantization tables, arithmetic coding) are made with
libjpeg-turbo's `cjpeg` (Debian: `apt-get install libjpeg-turbo-progs`); the script stops
with that hint when `cjpeg` is missing.

Reference conventions, recorded in reference.json too:

* Image preprocessing is transformers' PIL backend, `CLIPImageProcessorPil` (the former
  "slow" CLIPImageProcessor; transformers 5 made the torchvision one the default and renamed
  the PIL one). Resize shortest edge to 224 with Pillow BICUBIC, centre crop 224, rescale by
  1/255, normalize with OpenAI's mean/std. Images with transparency are composited onto
  white first.
* Pictures are decoded by Pillow, whose JPEG decoder is libjpeg-turbo with its defaults
  (integer "islow" IDCT, "fancy" chroma upsampling): images/ holds two colour JPEGs with
  4:2:0 chroma subsampling, as cameras and platforms serve them, whose embeddings are checked
  like the PNGs', and jpeg/ the decoder cases.
* Pillow 13 changed the bicubic resize (the vertical pass goes first when the height shrinks
  by more than twice as many pixels as the width), so regenerate with the pinned Pillow.
* Tokenization is the `tokenizers` pipeline saved in tokenizer.json (the fast CLIP
  tokenizer), truncated to 77 tokens with BOS and EOS kept.
* The text model pools at the EOS position. config.json keeps text_config.eos_token_id = 2 as
  the real openai/clip-vit-base-patch32 config does, so transformers takes the legacy
  `argmax(input_ids)` rule; the vocabulary puts EOS last, as the real one does, so that is
  the EOS position.

The output is deterministic: same versions, same bytes (the BPE merges are learned here, not
by the `tokenizers` trainer, whose tie-breaking changes from run to run).

Every weight, including layer-norm scales and all biases, is drawn at random (a fresh
CLIPModel has unit layer-norm scales and zero biases, which would hide a swapped or
forgotten parameter in the Rust port).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import PIL
import safetensors
import tokenizers
import torch
import transformers
from PIL import Image
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers
from transformers import CLIPConfig, CLIPModel, CLIPTokenizer
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

SEED = 20240611
ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
MODEL_DIR = ROOT / "tiny-clip"
REF_DIR = ROOT / "tiny-clip-reference"

EXPECTED_VERSIONS = {
    "torch": "2.15.0",
    "transformers": "5.24.0",
    "tokenizers": "0.23.3",
    "pillow": "13.0.0",
    "safetensors": "0.8.0",
    "numpy": "2.4.6",
}

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
CLIP_SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""

# A small corpus, English and Thai, to learn BPE merges from. What matters is that the merges
# are real (multi-byte Thai characters merge into tokens, common words become single tokens)
# so the Rust tokenizer is exercised on realistic token sequences.
CORPUS = """
skincare for sensitive skin in bangkok. a photo of a cat. a photo of a dog.
street food review, thai food, bangkok street food, night market, coffee shop,
beauty creator, makeup tutorial, gentle cleanser, sunscreen review, skin care routine,
fitness coach, running shoes, travel vlog, chiang mai, phuket beach, hotel review,
unboxing the new phone, gaming stream, cooking at home, healthy breakfast, vegan recipes,
don't stop believing, it's a great day, we're live, they've arrived, i'm here, you'll see.
สกินแคร์สำหรับผิวแพ้ง่าย กรุงเทพ รีวิวเครื่องสำอาง ครีมกันแดด ผิวแพ้ง่าย
อาหารริมทาง ผัดไทย ต้มยำกุ้ง ร้านกาแฟ ตลาดนัด กรุงเทพมหานคร เชียงใหม่ ภูเก็ต
สวัสดีครับ สวัสดีค่ะ ขอบคุณมาก รีวิวร้านอาหาร แต่งหน้า ออกกำลังกาย ท่องเที่ยว
2023 2024 2025 100% 50 baht 1,500 บาท #skincare #รีวิว @creator
"""
NUM_MERGES = 700

TEXTS = [
    "skincare for sensitive skin, Bangkok",
    "a photo of a cat",
    "สกินแคร์สำหรับผิวแพ้ง่าย กรุงเทพ",
    "Street food review: ผัดไทย & ต้มยำกุ้ง 🍜!!",
    "",
    "  Don't   STOP\tbelieving...\n it's 2024 ",
    # Longer than 77 tokens: checks truncation keeps BOS and EOS.
    " ".join(["beauty creator makeup tutorial in chiang mai and phuket"] * 12),
]

# Token-id-only cases (no embedding): odd inputs the tokenizer must agree on.
TOKEN_CASES = TEXTS + [
    "CAFÉ café cafe\u0301",  # NFC normalization: decomposed e + combining acute
    "we're you'll they've I'M he'd",
    "1,500 บาท (100%) #รีวิว @creator_th",
    "x" * 300,
    "ภูเก็ต\u00a0\u3000เชียงใหม่",  # non-breaking and ideographic spaces
    "<|endoftext|> literal special token text",
    "emoji 👩🏽‍💻🇹🇭 and a tab\tand CR\r\nLF",
]


def check_versions() -> dict[str, str]:
    found = {
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "pillow": PIL.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
    }
    if found != EXPECTED_VERSIONS:
        print(f"warning: versions differ from the recorded ones: {found}", file=sys.stderr)
    found["python"] = sys.version.split()[0]
    return found


def bytes_to_unicode() -> list[str]:
    """CLIP's (and GPT-2's) byte-to-character table, in CLIP's vocabulary order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def learn_merges(words: dict[str, int], num_merges: int) -> list[tuple[str, str]]:
    """Plain BPE on `words` (byte-level strings with counts), `</w>` marking word ends.

    Deterministic: the most frequent pair wins, ties go to the smallest pair in string
    order. (The `tokenizers` trainer breaks ties by hash-map order, which changes run to run.)
    """
    seqs = {w: list(w[:-1]) + [w[-1] + "</w>"] for w in words}
    merges = []
    for _ in range(num_merges):
        pairs: dict[tuple[str, str], int] = {}
        for w, seq in seqs.items():
            for pair in zip(seq, seq[1:]):
                pairs[pair] = pairs.get(pair, 0) + words[w]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        a, b = best
        for w, seq in seqs.items():
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and seq[i] == a and seq[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seqs[w] = out
    return merges


def build_tokenizer(workdir: Path) -> tuple[Path, int, int, int]:
    """Learns merges on CORPUS and saves a CLIP tokenizer with a CLIP-shaped vocabulary.

    Vocabulary order as in the real one: the 256 byte characters, the same with `</w>`, the
    merged tokens in merge order, then BOS and EOS (so EOS has the highest id).
    """
    # CLIP's normalizer and pre-tokenizer, to cut the corpus into byte-level words.
    pipeline = Tokenizer(models.BPE())
    pipeline.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    pipeline.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    words: dict[str, int] = {}
    for line in CORPUS.strip().splitlines():
        normalized = pipeline.normalizer.normalize_str(line)
        for word, _ in pipeline.pre_tokenizer.pre_tokenize_str(normalized):
            words[word] = words.get(word, 0) + 1
    merges = learn_merges(words, NUM_MERGES)
    byte_chars = bytes_to_unicode()

    vocab: dict[str, int] = {}
    for token in byte_chars + [c + "</w>" for c in byte_chars]:
        vocab[token] = len(vocab)
    kept_merges = []
    for a, b in merges:
        if a not in vocab or b not in vocab:
            continue
        merged = a + b
        if merged in vocab:
            continue
        vocab[merged] = len(vocab)
        kept_merges.append((a, b))
    bos_id = len(vocab)
    vocab[BOS] = bos_id
    eos_id = len(vocab)
    vocab[EOS] = eos_id

    tok = CLIPTokenizer(vocab=vocab, merges=kept_merges)
    tok_dir = workdir / "tokenizer"
    tok.save_pretrained(tok_dir)
    return tok_dir, len(vocab), bos_id, eos_id


def randomize(model: CLIPModel, gen: torch.Generator) -> None:
    """Draws every parameter at random, with scales that keep activations O(1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                continue
            if "layer_norm" in name or "layrnorm" in name or "layernorm" in name:
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "embedding" in name:
                if name.endswith("patch_embedding.weight"):
                    fan_in = p.shape[1] * p.shape[2] * p.shape[3]
                    p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
                else:
                    p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))


def make_images(rng: np.random.Generator) -> dict[str, Image.Image]:
    """Synthetic pictures: gradients, hard edges, fine checkerboards and mild noise."""

    def rgb(h: int, w: int) -> np.ndarray:
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        r = 255 * x / max(w - 1, 1)
        g = 255 * y / max(h - 1, 1)
        b = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
        img = np.stack([r, g, b], axis=-1)
        # A disc with a hard edge.
        cy, cx, rad = h * 0.45, w * 0.6, min(h, w) * 0.3
        disc = (y - cy) ** 2 + (x - cx) ** 2 < rad**2
        img[disc] = [230, 40, 90]
        # A 3-pixel checkerboard in one corner (high frequencies stress the resampler).
        checker = ((x // 3 + y // 3) % 2 == 0) & (x < w / 3) & (y < h / 3)
        img[checker] = [10, 10, 10]
        img += rng.normal(0, 4, img.shape)
        return np.clip(np.round(img), 0, 255).astype(np.uint8)

    images = {
        # Non-square, wider than tall: downscaled to 398x224 then cropped.
        "landscape_320x180.png": Image.fromarray(rgb(180, 320), "RGB"),
        # Square, slight downscale by a non-integer factor.
        "square_256.png": Image.fromarray(rgb(256, 256), "RGB"),
        # Smaller than the model input and taller than wide: upscaled, cropped vertically.
        "portrait_100x150.png": Image.fromarray(rgb(150, 100), "RGB"),
        # A thin panorama: 224 * 500 / 60 = 1866.67, truncated to 1866.
        "panorama_500x60.png": Image.fromarray(rgb(60, 500), "RGB"),
        # More than twice as tall as wide, downscaled: Pillow 13 resizes vertically first.
        "tall_240x600.png": Image.fromarray(rgb(600, 240), "RGB"),
        # Grayscale: converted to RGB by repeating the channel.
        "gray_90.png": Image.fromarray(rgb(90, 90)[..., 1], "L"),
    }
    # Transparency: composited onto white before anything else.
    rgba = rgb(120, 200)
    y, x = np.mgrid[0:120, 0:200]
    alpha = np.clip(x * 255 / 199, 0, 255).astype(np.uint8)
    alpha[:, :20] = 0  # fully transparent stripe
    alpha[:, -20:] = 255  # fully opaque stripe
    images["logo_rgba_200x120.png"] = Image.fromarray(np.dstack([rgba, alpha]), "RGBA")
    return images


def photo_like(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A synthetic "photo": sky and ground gradients, a wavy horizon, a sun, saturated
    coloured boxes with sharp edges (where chroma upsampling matters most) and sensor-like
    noise. Different from make_images' pictures so that every embedding is far from the others.
    """
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    horizon = h * (0.55 + 0.08 * np.sin(x / (w / 5.0)))
    sky = np.stack([90 + 60 * y / h, 140 + 50 * y / h, 235 - 30 * y / h], axis=-1)
    ground = np.stack(
        [70 + 40 * np.sin(x / 9.0) * np.cos(y / 5.0), 120 + 30 * (y / h), 50 + 0 * x], axis=-1
    )
    img = np.where((y < horizon)[..., None], sky, ground)
    sun = (y - h * 0.2) ** 2 + (x - w * 0.75) ** 2 < (min(h, w) * 0.09) ** 2
    img[sun] = [255, 230, 120]
    for (top, left, bh, bw, colour) in [
        (0.62, 0.08, 0.18, 0.22, [220, 20, 40]),
        (0.70, 0.40, 0.12, 0.15, [20, 40, 210]),
        (0.66, 0.62, 0.20, 0.09, [250, 200, 0]),
    ]:
        box = (y >= top * h) & (y < (top + bh) * h) & (x >= left * w) & (x < (left + bw) * w)
        img[box] = colour
    img += rng.normal(0, 5, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def make_jpeg_images(rng: np.random.Generator) -> dict[str, tuple[Image.Image, dict]]:
    """Colour JPEGs with 4:2:0 chroma subsampling, as cameras and platforms serve them, and
    the Pillow save options that write them."""
    return {
        # Baseline, odd size (the chroma planes end on a half sample), Pillow's default 4:2:0.
        "photo_420_333x517.jpg": (
            Image.fromarray(photo_like(rng, 517, 333), "RGB"),
            dict(quality=90, subsampling="4:2:0"),
        ),
        # Progressive with restart markers, a typical thumbnail shape.
        "thumb_progressive_420_480x270.jpg": (
            Image.fromarray(np.ascontiguousarray(photo_like(rng, 270, 480)[:, ::-1]), "RGB"),
            dict(quality=85, subsampling="4:2:0", progressive=True, restart_marker_blocks=4),
        ),
    }


def require_cjpeg() -> str:
    cjpeg = shutil.which("cjpeg")
    if cjpeg is None:
        sys.exit("cjpeg not found: install libjpeg-turbo's tools (Debian: libjpeg-turbo-progs)")
    return cjpeg


def make_jpeg_cases(rng: np.random.Generator, out_dir: Path, workdir: Path) -> list[dict]:
    """JPEGs in the encodings the decoder must reproduce, each with Pillow's decoding as an RGB
    PNG (greyscale repeated, as the image processor converts it)."""
    cjpeg = require_cjpeg()
    out_dir.mkdir(parents=True)
    cases = []

    def record(name: str, encoding: str) -> None:
        decoded = Image.open(out_dir / f"{name}.jpg")
        decoded.load()
        decoded.convert("RGB").save(out_dir / f"{name}.png")
        cases.append(
            {
                "file": f"jpeg/{name}.jpg",
                "decoded_file": f"jpeg/{name}.png",
                "encoding": encoding,
                "width": decoded.width,
                "height": decoded.height,
            }
        )

    pillow_cases = [
        ("420_45x31", (45, 31), dict(quality=85, subsampling="4:2:0"), "baseline 4:2:0, odd size"),
        ("422_45x31", (45, 31), dict(quality=85, subsampling="4:2:2"), "baseline 4:2:2, odd size"),
        ("444_45x31", (45, 31), dict(quality=85, subsampling="4:4:4"), "baseline 4:4:4"),
        ("420_3x5", (3, 5), dict(quality=85), "4:2:0 narrower than 3 chroma samples"),
        ("420_2x2", (2, 2), dict(quality=85), "4:2:0, one chroma sample"),
        ("420_q100_64x48", (64, 48), dict(quality=100), "4:2:0, quality 100"),
        ("420_q5_64x48", (64, 48), dict(quality=5), "4:2:0, quality 5"),
        (
            "420_optimized_64x48",
            (64, 48),
            dict(quality=90, optimize=True),
            "4:2:0, optimized Huffman tables",
        ),
        (
            "progressive_420_61x47",
            (61, 47),
            dict(quality=85, progressive=True),
            "progressive 4:2:0 with successive approximation",
        ),
        (
            "progressive_444_61x47",
            (61, 47),
            dict(quality=85, progressive=True, subsampling="4:4:4"),
            "progressive 4:4:4",
        ),
        (
            "restart_blocks_420_61x47",
            (61, 47),
            dict(quality=85, restart_marker_blocks=3),
            "baseline 4:2:0, restart every 3 MCUs",
        ),
        (
            "restart_rows_progressive_422_61x47",
            (61, 47),
            dict(quality=85, subsampling="4:2:2", progressive=True, restart_marker_rows=1),
            "progressive 4:2:2, restart every MCU row",
        ),
    ]
    for name, (w, h), options, encoding in pillow_cases:
        Image.fromarray(photo_like(rng, h, w), "RGB").save(out_dir / f"{name}.jpg", **options)
        record(name, encoding)
    grey = Image.fromarray(photo_like(rng, 31, 45), "RGB").convert("L")
    grey.save(out_dir / "grey_45x31.jpg", quality=85)
    record("grey_45x31", "greyscale baseline")
    grey.save(out_dir / "grey_progressive_45x31.jpg", quality=85, progressive=True)
    record("grey_progressive_45x31", "greyscale progressive")

    source = workdir / "jpeg_source.ppm"
    Image.fromarray(photo_like(rng, 48, 66), "RGB").save(source)
    scans = workdir / "non_interleaved.scans"
    scans.write_text("0: 0 63 0 0;\n1: 0 63 0 0;\n2: 0 63 0 0;\n")
    cjpeg_cases = [
        ("cjpeg_440_66x48", ["-sample", "1x2,1x1,1x1"], "4:4:0 (vertical chroma subsampling)"),
        ("cjpeg_411_66x48", ["-sample", "4x1,1x1,1x1", "-restart", "2B"], "4:1:1, restarts"),
        ("cjpeg_rgb_66x48", ["-rgb"], "RGB colour space (no YCbCr transform)"),
        (
            "cjpeg_non_interleaved_66x48",
            ["-scans", str(scans)],
            "one sequential scan per component",
        ),
        ("cjpeg_q1_66x48", ["-quality", "1"], "16-bit quantization tables (extended sequential)"),
        (
            "cjpeg_progressive_440_66x48",
            ["-progressive", "-sample", "1x2,1x1,1x1"],
            "progressive 4:4:0",
        ),
    ]
    for name, args, encoding in cjpeg_cases:
        subprocess.run(
            [cjpeg, *args, "-outfile", str(out_dir / f"{name}.jpg"), str(source)],
            check=True,
            capture_output=True,
        )
        record(name, encoding)
    return cases


def make_unsupported_jpegs(rng: np.random.Generator, out_dir: Path, workdir: Path) -> list[dict]:
    """Kinds of JPEG the exact decoder leaves to the image crate's: arithmetic coding (which
    that decoder cannot read either) and CMYK."""
    cjpeg = require_cjpeg()
    source = workdir / "unsupported_source.ppm"
    Image.fromarray(photo_like(rng, 24, 32), "RGB").save(source)
    subprocess.run(
        [
            cjpeg,
            "-arithmetic",
            "-outfile",
            str(out_dir / "unsupported_arithmetic_32x24.jpg"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    Image.open(source).convert("CMYK").save(out_dir / "fallback_cmyk_32x24.jpg", quality=90)
    return [
        {
            "file": "jpeg/unsupported_arithmetic_32x24.jpg",
            "decodes": False,
            "reason": "arithmetic-coded",
        },
        {"file": "jpeg/fallback_cmyk_32x24.jpg", "decodes": True, "reason": "CMYK"},
    ]


def to_unit(v: torch.Tensor) -> list[float]:
    v = v.double()
    return (v / v.norm()).tolist()


def main() -> None:
    versions = check_versions()
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    workdir = Path(tempfile.mkdtemp(prefix="tiny-clip-"))
    tok_dir, vocab_size, bos_id, eos_id = build_tokenizer(workdir)

    config = CLIPConfig(
        text_config=dict(
            vocab_size=vocab_size,
            hidden_size=48,
            intermediate_size=80,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            hidden_act="quick_gelu",
            layer_norm_eps=1e-5,
            projection_dim=512,
            # As in the real openai/clip-vit-base-patch32 config (legacy pooling rule).
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
        ),
        vision_config=dict(
            hidden_size=40,
            intermediate_size=72,
            num_hidden_layers=2,
            num_attention_heads=5,
            image_size=224,
            patch_size=32,
            num_channels=3,
            hidden_act="quick_gelu",
            layer_norm_eps=1e-5,
            projection_dim=512,
        ),
        projection_dim=512,
    )
    model = CLIPModel(config).eval()
    randomize(model, gen)

    if MODEL_DIR.exists():
        shutil.rmtree(MODEL_DIR)
    if REF_DIR.exists():
        shutil.rmtree(REF_DIR)
    model_tmp = workdir / "model"
    model.save_pretrained(model_tmp, safe_serialization=True)
    MODEL_DIR.mkdir(parents=True)
    shutil.copy(model_tmp / "config.json", MODEL_DIR / "config.json")
    shutil.copy(model_tmp / "model.safetensors", MODEL_DIR / "model.safetensors")
    shutil.copy(tok_dir / "tokenizer.json", MODEL_DIR / "tokenizer.json")

    # Reload from the saved files, as a user would, so the reference is what the files mean.
    model = CLIPModel.from_pretrained(MODEL_DIR).eval()
    clip_tok = CLIPTokenizer.from_pretrained(tok_dir)
    raw_tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    raw_tok.enable_truncation(max_length=77)

    def ids_of(text: str) -> list[int]:
        ids = clip_tok(text, truncation=True, max_length=77)["input_ids"]
        raw = raw_tok.encode(text).ids
        assert ids == raw, f"CLIPTokenizer and tokenizer.json disagree on {text!r}: {ids} vs {raw}"
        assert ids[0] == bos_id and ids[-1] == eos_id and len(ids) <= 77
        return ids

    token_cases = [{"text": t, "input_ids": ids_of(t)} for t in TOKEN_CASES]

    texts = []
    with torch.no_grad():
        for text in TEXTS:
            ids = torch.tensor([ids_of(text)])
            feats = model.get_text_features(input_ids=ids).pooler_output[0]
            texts.append({"text": text, "input_ids": ids[0].tolist(), "embedding": to_unit(feats)})
        # The same texts as one padded batch must give the same embeddings.
        batch = clip_tok(TEXTS, padding=True, truncation=True, max_length=77, return_tensors="pt")
        feats = model.get_text_features(**batch).pooler_output
        for i, entry in enumerate(texts):
            diff = np.max(np.abs(np.array(to_unit(feats[i])) - np.array(entry["embedding"])))
            assert diff < 1e-5, f"padded batch differs for text {i}: {diff}"

    processor = CLIPImageProcessorPil()
    images_dir, crops_dir = REF_DIR / "images", REF_DIR / "crops"
    images_dir.mkdir(parents=True)
    crops_dir.mkdir(parents=True)
    mean = np.array(processor.image_mean, dtype=np.float32)[:, None, None]
    std = np.array(processor.image_std, dtype=np.float32)[:, None, None]
    image_entries = []
    sensitivity = []
    with torch.no_grad():
        # The JPEG pictures draw from their own generator, so the PNGs (and the resize source
        # drawn after them) stay what they were before the JPEGs were added.
        pictures = {name: (img, {}) for name, img in make_images(rng).items()}
        pictures.update(make_jpeg_images(np.random.default_rng(SEED + 1)))
        for name, (img, save_options) in pictures.items():
            img.save(images_dir / name, **save_options)
            reopened = Image.open(images_dir / name)
            pixel_values = processor(images=reopened, return_tensors="pt")["pixel_values"]
            feats = model.get_image_features(pixel_values=pixel_values).pooler_output[0]
            # Recover the uint8 crop the processor fed the model and check it is exact.
            pv = pixel_values[0].numpy()
            crop = np.round((pv * std + mean) * 255.0)
            assert crop.min() >= 0 and crop.max() <= 255
            crop = crop.astype(np.uint8)
            again = ((crop.astype(np.float64) * (1 / 255)).astype(np.float32) - mean) / std
            assert np.array_equal(again, pv), f"crop of {name} does not reproduce pixel_values"
            crop_name = str(Path(name).with_suffix(".png"))
            Image.fromarray(np.moveaxis(crop, 0, -1), "RGB").save(crops_dir / crop_name)
            # How much one grey level in one pixel moves the embedding: the 1e-4 tolerance
            # must be well below what a preprocessing error would cause.
            nudged = pixel_values.clone()
            nudged[0, :, 100, 100] += torch.tensor(1 / 255) / torch.tensor(processor.image_std)
            moved = model.get_image_features(pixel_values=nudged).pooler_output[0]
            sensitivity.append(float(np.max(np.abs(np.array(to_unit(moved)) - np.array(to_unit(feats))))))
            image_entries.append(
                {
                    "file": f"images/{name}",
                    "mode": img.mode,
                    "width": img.width,
                    "height": img.height,
                    "crop_file": f"crops/{crop_name}",
                    "embedding": to_unit(feats),
                }
            )
        # A batch of all images gives the same embeddings.
        all_pv = processor(
            images=[Image.open(images_dir / Path(e["file"]).name) for e in image_entries],
            return_tensors="pt",
        )["pixel_values"]
        feats = model.get_image_features(pixel_values=all_pv).pooler_output
        for i, entry in enumerate(image_entries):
            diff = np.max(np.abs(np.array(to_unit(feats[i])) - np.array(entry["embedding"])))
            assert diff < 1e-5, f"batched image {i} differs: {diff}"

    # Pillow bicubic resizes of a small noisy picture to sizes up, down and mixed.
    resize_dir = REF_DIR / "resize"
    resize_dir.mkdir(parents=True)
    src = Image.fromarray(rng.integers(0, 256, (29, 41, 3), dtype=np.uint8), "RGB")
    src.save(resize_dir / "input_41x29.png")
    resize_cases = []
    for w, h in [(17, 11), (5, 3), (100, 70), (41, 60), (30, 29), (41, 29), (1, 1), (200, 3), (35, 8), (30, 7)]:
        out = src.resize((w, h), resample=Image.Resampling.BICUBIC, reducing_gap=None)
        name = f"bicubic_{w}x{h}.png"
        out.save(resize_dir / name)
        resize_cases.append({"file": f"resize/{name}", "width": w, "height": h})

    # JPEG decoder cases, from a third generator.
    jpeg_rng = np.random.default_rng(SEED + 2)
    jpeg_dir = REF_DIR / "jpeg"
    jpeg_cases = make_jpeg_cases(jpeg_rng, jpeg_dir, workdir)
    unsupported_jpegs = make_unsupported_jpegs(jpeg_rng, jpeg_dir, workdir)
    cjpeg_version = subprocess.run([require_cjpeg(), "-version"], capture_output=True, text=True)
    versions["cjpeg"] = (cjpeg_version.stdout + cjpeg_version.stderr).strip()

    reference = {
        "about": "Reference outputs of transformers' CLIPModel for kol-embed's tests; "
        "generated by kol-embed/scripts/make_tiny_clip.py. Embeddings are L2-normalized "
        "get_text_features / get_image_features outputs.",
        "versions": versions,
        "image_processor": "CLIPImageProcessorPil (PIL backend; the slow processor), "
        "BICUBIC, shortest_edge 224, center crop 224, OpenAI mean/std",
        "seed": SEED,
        "tolerance": 1e-4,
        "bos_id": bos_id,
        "eos_id": eos_id,
        "image_sensitivity_one_grey_level": sensitivity,
        "texts": texts,
        "token_cases": token_cases,
        "images": image_entries,
        "resize_source": "resize/input_41x29.png",
        "resize_cases": resize_cases,
        "jpeg_cases": jpeg_cases,
        "unsupported_jpegs": unsupported_jpegs,
    }
    with open(REF_DIR / "reference.json", "w", encoding="utf-8") as f:
        json.dump(reference, f, ensure_ascii=False, indent=1)
        f.write("\n")
    shutil.rmtree(workdir)

    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    print(f"vocab {vocab_size} tokens (BOS {bos_id}, EOS {eos_id})")
    print(f"image sensitivity to one grey level: {sensitivity}")
    print(f"fixture size: {total / 1e6:.2f} MB in {ROOT}")


if __name__ == "__main__":
    main()
