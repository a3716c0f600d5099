"""Export fitted scikit-learn pipelines as Vigia model artifacts, checked for exact parity."""

from .convert import UnsupportedStep, convert
from .export import ExportError, ExportResult, ParityReport, export, read_sample

__all__ = ["ExportError", "ExportResult", "ParityReport", "UnsupportedStep", "convert", "export", "read_sample"]
