"""Export a fitted scikit-learn pipeline as the next version of a Vigia model.

The artifact is written into `<storage>/<name>/.tmp-<version>-<pid>/<name>/<version>`, scored
there by `vigia predict` against scikit-learn on the whole sample, and only then renamed
into `<storage>/<name>/<version>` (rename(2): the version appears whole or not at all).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from .convert import Column, Conversion, UnsupportedStep, category_text, convert
from .profile import build_profile

TOLERANCE = 1e-9
MANIFEST = "model.json"
WEIGHTS = "weights.bin"
PROVENANCE = "sklearn.json"
REPORT = "report.html"
METRICS = "metrics.json"
CARD = "MODEL_CARD.md"
# Sample columns the evaluation report slices by, when the sample has them.
SLICE_COLUMNS = {"site_id": "string", "family": "string", "seller_age_days": "number"}


class ExportError(RuntimeError):
    """The pipeline could not be published (parity, storage, signature, …)."""


@dataclass(frozen=True)
class ParityReport:
    rows: int
    max_abs_difference: float
    worst_row: int

    def describe(self) -> str:
        return (f"{self.rows} rows scored by scikit-learn and vigia predict: "
                f"max |Δprobability| = {self.max_abs_difference:.3e} (row {self.worst_row})")


@dataclass(frozen=True)
class ExportResult:
    version: int
    directory: Path
    parity: ParityReport
    algorithm: str


# ---------------------------------------------------------------------------- sample


def read_sample(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV (header row) or JSON Lines file as a DataFrame."""
    text = str(path)
    if text.endswith(".jsonl") or text.endswith(".ndjson"):
        return pd.read_json(path, lines=True, dtype=False)
    if text.endswith(".csv"):
        return pd.read_csv(path, keep_default_na=True)
    raise ExportError(f"{path}: the sample must be a .csv or .jsonl file")


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "string"


def infer_signature(columns: list[Column], sample: pd.DataFrame, id_column: str | None) -> dict[str, Any]:
    """Fields from the pipeline's input columns and the sample's types; a column with a
    missing value in the sample is optional."""
    fields: list[dict[str, Any]] = []
    seen: set[str] = set()
    if id_column is not None:
        if id_column not in sample.columns:
            raise ExportError(f"--id-column {id_column!r} is not a column of the sample")
        fields.append({"name": id_column, "type": "string", "required": True, "description": "listing id"})
        seen.add(id_column)
    for column in columns:
        if column.name in seen:
            continue
        seen.add(column.name)
        if column.name not in sample.columns:
            raise ExportError(f"the pipeline reads column {column.name!r}, which the sample lacks")
        series = sample[column.name]
        kind = "string" if column.usage == "text" else _field_type(series)
        fields.append({"name": column.name, "type": kind, "required": not bool(series.isna().any())})
    signature: dict[str, Any] = {"fields": fields}
    if id_column is not None:
        signature["id_field"] = id_column
    return signature


def _json_value(value: Any, kind: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if kind == "string":
        return value if isinstance(value, str) else str(value)
    if kind == "integer":
        return int(value)
    if kind == "number":
        v = float(value)
        return v if math.isfinite(v) else None
    if kind == "boolean":
        return bool(value)
    return value


def listing_records(sample: pd.DataFrame, signature: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as JSON listings: signature fields only, missing values left out."""
    fields = [(f["name"], f["type"]) for f in signature["fields"]]
    records = []
    for row in sample.to_dict(orient="records"):
        record = {}
        for name, kind in fields:
            value = _json_value(row.get(name), kind)
            if value is not None:
                record[name] = value
        records.append(record)
    return records


# ------------------------------------------------------------------------- artifact


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _metrics(scores: np.ndarray, labels: np.ndarray | None, threshold: float) -> dict[str, Any]:
    if labels is None:
        return {"values": {}}
    predicted = scores >= threshold
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    tn = int(np.sum(~predicted & ~labels))
    values: dict[str, float] = {"accuracy": (tp + tn) / max(1, len(scores))}
    if tp + fp:
        values["precision"] = tp / (tp + fp)
    if tp + fn:
        values["recall"] = tp / (tp + fn)
    if "precision" in values and "recall" in values and values["precision"] + values["recall"] > 0:
        values["f1"] = 2 * values["precision"] * values["recall"] / (values["precision"] + values["recall"])
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives and negatives:
        ranks = pd.Series(scores).rank(method="average").to_numpy()
        values["roc_auc"] = float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))
    return {"values": values, "confusion_matrix": {"true_negative": tn, "false_positive": fp,
                                                     "false_negative": fn, "true_positive": tp}}


def build_manifest(conversion: Conversion, *, name: str, version: int, signature: dict[str, Any],
                   example: dict[str, Any], expected_score: float, metrics: dict[str, Any],
                   sample_name: str, sample_fingerprint: str, positive_classes: list[str] | None = None,
                   class_thresholds: dict[str, float] | None = None,
                   profile: dict[str, Any] | None = None) -> dict[str, Any]:
    manifest = {
        "format_version": conversion.format_version,
        "name": name,
        "version": version,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "algorithm": conversion.algorithm,
        "signature": signature,
        "pipeline": {"transformers": conversion.transformers},
        "model": conversion.model,
        "threshold": 0.5,
        "labels": conversion.labels,
        "metrics": metrics,
        "example": {"input": example, "expected_score": expected_score},
        "dataset": {"name": sample_name, "version": "sample", "fingerprint": "sha256:" + sample_fingerprint},
        "files": {},
    }
    if positive_classes is not None:
        manifest["positive_classes"] = positive_classes
        if class_thresholds:
            manifest["class_thresholds"] = {k: float(v) for k, v in class_thresholds.items()}
    if profile is not None:
        manifest["profile"] = profile
    return manifest


def write_artifact(directory: Path, manifest: dict[str, Any], weights: list[float], provenance: dict[str, Any]) -> None:
    """weights.bin and sklearn.json first, their SHA-256 in `files`, model.json last."""
    directory.mkdir(parents=True, exist_ok=False)
    files: dict[str, str] = {}
    if weights:
        data = struct.pack(f"<{len(weights)}d", *weights)
        (directory / WEIGHTS).write_bytes(data)
        files[WEIGHTS] = _sha256(data)
    extra = (json.dumps(provenance, indent=2, sort_keys=True) + "\n").encode()
    (directory / PROVENANCE).write_bytes(extra)
    files[PROVENANCE] = _sha256(extra)
    manifest = dict(manifest, files=files)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    (directory / MANIFEST).write_text(text, encoding="utf-8")


def _run_vigia(vigia: str, arguments: list[str], what: str) -> None:
    done = subprocess.run([vigia, *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ExportError(f"vigia {what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def write_documents(vigia: str, directory: Path, records: list[dict[str, Any]], sample: pd.DataFrame,
                    labels: np.ndarray | None, provenance: dict[str, Any], sample_name: str) -> None:
    """The evaluation report (when the sample has labels) and MODEL_CARD.md, written by vigia
    itself into `directory`, then listed with their SHA-256 in model.json's `files`."""
    label_key = "__vigia_label__"
    written: list[str] = []
    metrics_path = directory / METRICS
    if labels is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as handle:
            for k, record in enumerate(records):
                line = dict(record)
                for column, kind in SLICE_COLUMNS.items():
                    if column in sample.columns and column not in line:
                        value = _json_value(sample[column].iloc[k], kind)
                        if value is not None:
                            line[column] = value
                line[label_key] = int(bool(labels[k]))
                handle.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
            lines_path = handle.name
        try:
            _run_vigia(vigia, ["evaluate", "--model", str(directory), "--data", lines_path, "--label", label_key,
                               "--report", str(directory / REPORT), "--json", str(metrics_path)], "evaluate")
        finally:
            os.unlink(lines_path)
        written += [REPORT, METRICS]
    settings = [f"{key}={value}" for key, value in sorted(provenance.items()) if key != "pipeline"]
    settings.append("pipeline=" + " → ".join(provenance.get("pipeline", [])))
    note = (f"Evaluated on the export sample `{sample_name}` ({len(sample)} rows). The exporter does not see the "
            "pipeline's training data; if the sample overlaps it, these figures are optimistic.")
    card = ["model-card", "--model", str(directory), "--output", str(directory / CARD), "--data-note", note]
    if labels is not None:
        card += ["--metrics", str(metrics_path)]
    for setting in settings:
        card += ["--setting", setting]
    _run_vigia(vigia, card, "model-card")
    written.append(CARD)
    manifest_path = directory / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name in written:
        manifest["files"][name] = _sha256((directory / name).read_bytes())
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    manifest_path.write_text(text, encoding="utf-8")
    _run_vigia(vigia, ["validate", str(directory)], "validate")


# --------------------------------------------------------------------------- parity


def find_vigia(explicit: str | None) -> str:
    """The vigia binary: the argument, else $VIGIA, else `vigia` on PATH."""
    candidate = explicit or os.environ.get("VIGIA") or shutil.which("vigia")
    if not candidate or not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        raise ExportError("no vigia binary: pass vigia=/path/to/vigia (--vigia), set VIGIA, or put vigia on PATH")
    return candidate


def vigia_scores(vigia: str, directory: Path, records: list[dict[str, Any]],
                 classes: list[str] | None = None) -> np.ndarray:
    """`score` per row, or for a multi-class model (`classes`) every class's probability
    ([rows, K], `scores` of each line) followed by `score` as a last column."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
        lines_path = handle.name
    try:
        done = subprocess.run([vigia, "predict", "--model", str(directory), "--input", lines_path],
                              capture_output=True, text=True, check=False)
    finally:
        os.unlink(lines_path)
    if done.returncode != 0:
        raise ExportError(f"vigia predict failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if len(lines) != len(records):
        raise ExportError(f"vigia predict returned {len(lines)} scores for {len(records)} rows")
    if classes is None:
        return np.asarray([line["score"] for line in lines], dtype=np.float64)
    try:
        return np.asarray([[line["scores"][c] for c in classes] + [line["score"]] for line in lines], dtype=np.float64)
    except KeyError as missing:
        raise ExportError(f"vigia predict gave no probability for class {missing}") from None


def compare(reference: np.ndarray, candidate: np.ndarray) -> ParityReport:
    differences = np.abs(reference - candidate)
    if differences.ndim == 2:  # multi-class: the largest difference over every class of a row
        differences = differences.max(axis=1)
    worst = int(np.argmax(differences)) if len(differences) else 0
    return ParityReport(rows=len(reference), max_abs_difference=float(differences.max()) if len(differences) else 0.0,
                        worst_row=worst)


# -------------------------------------------------------------------------- publish


def _positive_classes(labels: list[str], negative: list[str] | None,
                      thresholds: dict[str, float] | None) -> list[str]:
    """The classes whose probabilities add up to `score`: every class but `negative`."""
    if not negative:
        raise ExportError(f"a multi-class estimator ({len(labels)} classes: {', '.join(labels)}) needs its allowed "
                          "classes: negative_classes=[...] (--negative-class NAME, repeatable)")
    unknown = [c for c in negative if c not in labels]
    if unknown:
        raise ExportError(f"negative class {unknown[0]!r} is not one of the estimator's classes: {', '.join(labels)}")
    positive = [c for c in labels if c not in negative]
    if not positive:
        raise ExportError("every class is negative; at least one class must be positive")
    for name, value in (thresholds or {}).items():
        if name not in positive:
            raise ExportError(f"class threshold for {name!r}: not a positive class ({', '.join(positive)})")
        if not (isinstance(value, (int, float)) and 0 <= value <= 1):
            raise ExportError(f"class threshold for {name!r} must lie in [0, 1], got {value!r}")
    return positive


def _published_versions(model_dir: Path) -> list[int]:
    if not model_dir.is_dir():
        return []
    versions = []
    for entry in model_dir.iterdir():
        if entry.name.isascii() and entry.name.isdigit() and int(entry.name) > 0 and not entry.name.startswith("."):
            versions.append(int(entry.name))
    return sorted(versions)


def _remove_stale_temporaries(model_dir: Path) -> None:
    if not model_dir.is_dir():
        return
    for entry in model_dir.iterdir():
        if entry.name.startswith(".tmp-"):
            pid = entry.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and Path(f"/proc/{pid}").exists():
                continue
            shutil.rmtree(entry, ignore_errors=True)


def _signature_shape(signature: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return sorted((f["name"], f["type"], bool(f.get("required", False))) for f in signature.get("fields", []))


def export(pipeline: Any, *, storage: str | os.PathLike[str], name: str, sample: pd.DataFrame,
           id_column: str | None = None, label_column: str | None = None,
           signature: dict[str, Any] | None = None, force: bool = False, vigia: str | None = None,
           sample_name: str = "sample", log: Any = None, negative_classes: list[str] | None = None,
           class_thresholds: dict[str, float] | None = None) -> ExportResult:
    """Publishes `pipeline` as the next version of `name` under `storage`.

    Refuses (ExportError / UnsupportedStep) when a step cannot be reproduced, when any
    probability of the sample differs between scikit-learn and `vigia predict` by more than
    1e-9 (`force` never skips this), or — unless `force` — when the signature differs from
    the latest published version's (a change clients must follow).

    A multi-class estimator (three or more classes) needs `negative_classes`: the allowed
    classes; the others' probabilities add up to the served `score`. `class_thresholds` gives
    some positive classes a threshold of their own. Parity covers every class's probability.
    """
    say = log or (lambda message: None)
    if not name or "/" in name or name.startswith("."):
        raise ExportError(f"model name {name!r} must be a plain directory name")
    if len(sample) == 0:
        raise ExportError("the sample is empty")
    conversion = convert(pipeline)
    signature = signature or infer_signature(conversion.columns, sample, id_column)
    inputs = [c.name for c in conversion.columns]
    frame = sample[list(dict.fromkeys(inputs))]
    probabilities = np.asarray(pipeline.predict_proba(frame), dtype=np.float64)
    multiclass = len(conversion.labels) > 2
    positive_classes = _positive_classes(conversion.labels, negative_classes, class_thresholds) if multiclass else None
    if multiclass:
        positive = np.array([c in positive_classes for c in conversion.labels])
        score = probabilities[:, positive].sum(axis=1)
        reference = np.column_stack([probabilities, score])  # every class, then the score
    else:
        if negative_classes or class_thresholds:
            raise ExportError("negative classes and class thresholds are for multi-class estimators; this one has two classes")
        score = reference = probabilities[:, 1]
    records = listing_records(sample, signature)
    labels = None
    if label_column is not None:
        if label_column not in sample.columns:
            raise ExportError(f"--label-column {label_column!r} is not a column of the sample")
        if multiclass:
            truth = np.array([category_text(v) or str(v) for v in sample[label_column]])
            labels = np.isin(truth, positive_classes)
        else:
            labels = (sample[label_column].to_numpy() == pipeline.classes_[1])
    metrics = _metrics(score, labels, 0.5)
    if multiclass and label_column is not None:
        predicted = np.array(conversion.labels)[probabilities.argmax(axis=1)]
        metrics["values"]["class_accuracy"] = float(np.mean(predicted == truth))
    fingerprint = hashlib.sha256(pd.util.hash_pandas_object(sample, index=False).to_numpy().tobytes()).hexdigest()
    provenance = {"scikit_learn": sklearn.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                  "python": platform.python_version(), "exporter": "vigia-sklearn",
                  "pipeline": [type(s).__name__ for _, s in pipeline.steps]}
    vigia_path = find_vigia(vigia)

    model_dir = Path(storage) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(model_dir)
    published = _published_versions(model_dir)
    if published and not force:
        latest = model_dir / str(published[-1]) / MANIFEST
        try:
            previous = json.loads(latest.read_text(encoding="utf-8"))
            if _signature_shape(previous.get("signature", {})) != _signature_shape(signature):
                raise ExportError(f"the signature differs from version {published[-1]}'s "
                                  "(clients must change their requests); pass force=True (--force) to publish anyway")
        except (OSError, ValueError):
            say(f"version {published[-1]} has no readable manifest; not comparing signatures")
    version = (published[-1] if published else 0) + 1
    scratch = model_dir / f".tmp-{version}-{os.getpid()}"
    candidate = scratch / name / str(version)
    try:
        manifest = build_manifest(conversion, name=name, version=version, signature=signature,
                                  example=records[0], expected_score=float(score[0]), metrics=metrics,
                                  sample_name=sample_name, sample_fingerprint=fingerprint,
                                  positive_classes=positive_classes, class_thresholds=class_thresholds,
                                  profile=build_profile(conversion, signature, records))
        write_artifact(candidate, manifest, conversion.weights.values, provenance)
        served = vigia_scores(vigia_path, candidate, records, conversion.labels if multiclass else None)
        report = compare(reference, served)
        if not report.max_abs_difference <= TOLERANCE:
            raise ExportError(f"parity check failed: {report.describe()}: scikit-learn "
                              f"{reference[report.worst_row]!r}, listing {json.dumps(records[report.worst_row], ensure_ascii=False)}; "
                              "nothing was published")
        write_documents(vigia_path, candidate, records, sample, labels, provenance, sample_name)
        final = model_dir / str(version)
        os.rename(candidate, final)  # fails rather than replace a version published meanwhile
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ExportResult(version=version, directory=final, parity=report, algorithm=conversion.algorithm)
