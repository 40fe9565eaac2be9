"""The reader: a trained span extractor that finds the answering words, or says none do.

``Reader.read(question, passages)`` returns, per passage, the best span and its margin over
"no answer"; training is ``python -m retrieval.reader.train`` (docs/reader.md).
"""

from .reader import Reader, Reading

__all__ = ["Reader", "Reading"]
