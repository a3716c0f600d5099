"""The input profile stored in an artifact (`"profile"` in model.json): what the training
inputs looked like, per signature field but the id field, so the service can count
training/serving skew. The same shape and rules as `vigia train` (Sources/Inference/InputProfile.swift):

- numeric fields: missing rate, values at the levels 0, 0.1, …, 1 (linear interpolation
  between order statistics), and bins at the distinct interior deciles with their shares;
- categorical fields: missing rate, distinct values, the 100 most frequent (most frequent
  first, ties by value) with their share of the present values, and the share of the rest;
- text fields (read by a vectorizer): missing rate, quantiles and bins of the terms per
  listing, and for a fixed vocabulary the share of terms in it.

A field is text when a vectorizer reads it, categorical when a one-hot encoder does (or, read
by nothing, when it is a string or boolean), numeric otherwise.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from .convert import Conversion, category_text

QUANTILE_LEVELS = [k / 10 for k in range(11)]
MAXIMUM_CATEGORIES = 100


def _rate(part: int, whole: int) -> float:
    return 0.0 if whole == 0 else part / whole


def quantiles(values: list[float]) -> list[float]:
    """Values at QUANTILE_LEVELS, interpolated as the service computes them (numpy's 'linear')."""
    if not values:
        return []
    ordered = sorted(values)
    out = []
    for level in QUANTILE_LEVELS:
        position = level * (len(ordered) - 1)
        below = int(position)
        above = min(below + 1, len(ordered) - 1)
        fraction = position - below
        out.append(ordered[below] + (ordered[above] - ordered[below]) * fraction)
    return out


def bins(values: list[float]) -> dict[str, list[float]] | None:
    """Edges at the distinct interior deciles; bin i holds values <= edges[i] above the previous edge."""
    if not values:
        return None
    edges: list[float] = []
    for edge in quantiles(values)[1:-1]:
        if not edges or edges[-1] != edge:
            edges.append(edge)
    counts = [0] * (len(edges) + 1)
    for x in values:
        counts[bisect_left(edges, x)] += 1
    return {"edges": edges, "shares": [_rate(c, len(values)) for c in counts]}


def _number(value: Any) -> float | None:
    """A finite number (booleans and strings are missing, as the pipeline imputes them)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    x = float(value)
    return x if x == x and x not in (float("inf"), float("-inf")) else None


def _numeric(name: str, column: list[Any]) -> dict[str, Any]:
    values = [x for x in map(_number, column) if x is not None]
    profile: dict[str, Any] = {"name": name, "kind": "numeric", "missing_rate": _rate(len(column) - len(values), len(column)),
                               "quantiles": quantiles(values)}
    if (b := bins(values)) is not None:
        profile["bins"] = b
    return profile


def _categorical(name: str, column: list[Any]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    present = 0
    for value in column:
        text = category_text(value)
        if text is None:
            continue
        counts[text] = counts.get(text, 0) + 1
        present += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAXIMUM_CATEGORIES]
    listed = sum(count for _, count in ranked)
    return {"name": name, "kind": "categorical", "missing_rate": _rate(len(column) - present, len(column)),
            "distinct": len(counts), "top": [{"value": v, "share": _rate(c, present)} for v, c in ranked],
            "other_share": _rate(present - listed, present)}


def _text(name: str, column: list[Any], vectorizer: Any) -> dict[str, Any]:
    analyze = vectorizer.build_analyzer()
    vocabulary = getattr(vectorizer, "vocabulary_", None)
    term_counts: list[float] = []
    terms = known = 0
    for value in column:
        text = category_text(value)
        if text is None:
            continue
        tokens = analyze(text)
        term_counts.append(float(len(tokens)))
        terms += len(tokens)
        if vocabulary is not None:
            known += sum(1 for token in tokens if token in vocabulary)
    profile: dict[str, Any] = {"name": name, "kind": "text", "missing_rate": _rate(len(column) - len(term_counts), len(column)),
                               "quantiles": quantiles(term_counts)}
    if (b := bins(term_counts)) is not None:
        profile["bins"] = b
    if vocabulary is not None:
        profile["vocabulary_share"] = _rate(known, terms)
    return profile


def build_profile(conversion: Conversion, signature: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The profile of `records` (JSON listings: signature fields, missing values left out)."""
    kinds = {}
    for spec in conversion.transformers:
        kinds.setdefault(spec["field"], spec["type"])
    fields = []
    for f in signature["fields"]:
        name = f["name"]
        if name == signature.get("id_field"):
            continue
        column = [record.get(name) for record in records]
        kind = kinds.get(name)
        if kind == "text" and name in conversion.text_vectorizers:
            fields.append(_text(name, column, conversion.text_vectorizers[name]))
        elif kind in ("categorical", "boolean") or (kind is None and f["type"] in ("string", "boolean")):
            fields.append(_categorical(name, column))
        else:
            fields.append(_numeric(name, column))
    return {"rows": len(records), "fields": fields}
