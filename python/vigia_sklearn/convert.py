"""Fitted scikit-learn pipeline -> Vigia manifest parts (pipeline spec, model parameters).

Every supported step is translated into the artifact's own terms; anything else raises
`UnsupportedStep` naming the step and the parameter. Nothing is approximated: the exporter
also scores the sample with both engines before publishing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    StandardScaler,
)
from sklearn.svm import LinearSVC

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


class UnsupportedStep(ValueError):
    """A step or parameter the artifact cannot reproduce exactly."""

    def __init__(self, step: str, parameter: str, detail: str) -> None:
        super().__init__(f"{step}: {parameter}: {detail}")
        self.step = step
        self.parameter = parameter


@dataclass
class Weights:
    """Large arrays destined for weights.bin; `add` returns the manifest reference."""

    values: list[float] = field(default_factory=list)

    def add(self, array: Any) -> dict[str, int]:
        data = [float(v) for v in np.asarray(array, dtype=np.float64).ravel()]
        for v in data:
            if not math.isfinite(v):
                raise ValueError("a parameter array holds a non-finite value")
        reference = {"offset": len(self.values), "count": len(data)}
        self.values.extend(data)
        return reference


@dataclass
class Column:
    """One input column the pipeline reads, and how it is used."""

    name: str
    usage: str  # "text", "categorical" or "numeric"


@dataclass
class Conversion:
    transformers: list[dict[str, Any]]
    algorithm: str
    model: dict[str, Any]
    labels: list[str]
    columns: list[Column]
    weights: Weights
    format_version: int = 2
    # Per text field, the fitted vectorizer that reads it (the first one), for the input profile.
    text_vectorizers: dict[str, Any] = field(default_factory=dict)


def _name(step: Any) -> str:
    return type(step).__name__


def _params(step: Any) -> dict[str, Any]:
    return step.get_params(deep=False)


def _require(step: Any, step_name: str, parameter: str, allowed: Any, value: Any = None) -> None:
    actual = _params(step)[parameter] if value is None else value
    ok = actual in allowed if isinstance(allowed, (list, tuple, set)) else actual == allowed
    if not ok:
        raise UnsupportedStep(step_name, parameter, f"{actual!r} is not supported (supported: {allowed!r})")


def _check_float_dtype(step: Any, step_name: str, allow_int: bool = False) -> None:
    dtype = np.dtype(_params(step).get("dtype", np.float64))
    allowed = {np.dtype(np.float64)} | ({np.dtype(np.int64), np.dtype(np.int32)} if allow_int else set())
    if dtype not in allowed:
        raise UnsupportedStep(step_name, "dtype", f"{dtype} is not reproduced exactly; use float64")


# ----------------------------------------------------------------------------- text


def _text_spec(column: str, steps: list[Any], step_name: str, weights: Weights) -> dict[str, Any]:
    """A vectorizer (optionally CountVectorizer followed by TfidfTransformer) -> a text spec."""
    vectorizer = steps[0]
    transformer = None
    if len(steps) == 2:
        if not isinstance(vectorizer, CountVectorizer) or isinstance(vectorizer, TfidfVectorizer) \
                or not isinstance(steps[1], TfidfTransformer):
            raise UnsupportedStep(step_name, "steps", "a text chain must be CountVectorizer then TfidfTransformer")
        transformer = steps[1]
    elif len(steps) != 1:
        raise UnsupportedStep(step_name, "steps", "a text chain has at most a vectorizer and a TfidfTransformer")

    p = _params(vectorizer)
    vname = f"{step_name} ({_name(vectorizer)})"
    if p.get("input", "content") != "content":
        raise UnsupportedStep(vname, "input", f"{p['input']!r} is not supported (supported: 'content')")
    if p.get("preprocessor") is not None:
        raise UnsupportedStep(vname, "preprocessor", "a custom preprocessor is not supported")
    if p.get("tokenizer") is not None:
        raise UnsupportedStep(vname, "tokenizer", "a custom tokenizer is not supported")
    analyzer = p["analyzer"]
    if callable(analyzer) or analyzer not in ("word", "char", "char_wb"):
        raise UnsupportedStep(vname, "analyzer", f"{analyzer!r} is not supported (supported: word, char, char_wb)")
    if analyzer == "word" and p.get("token_pattern") != DEFAULT_TOKEN_PATTERN:
        raise UnsupportedStep(vname, "token_pattern", f"{p.get('token_pattern')!r} is not supported "
                              f"(supported: the default {DEFAULT_TOKEN_PATTERN!r})")
    strip = p["strip_accents"]
    if strip not in (None, "unicode", "ascii"):
        raise UnsupportedStep(vname, "strip_accents", f"{strip!r} is not supported (supported: None, 'unicode', 'ascii')")
    ngram_min, ngram_max = (int(v) for v in p["ngram_range"])
    if not 1 <= ngram_min <= ngram_max <= 16:
        raise UnsupportedStep(vname, "ngram_range", f"{p['ngram_range']!r} must satisfy 1 <= min <= max <= 16")
    spec: dict[str, Any] = {
        "type": "text", "field": column, "name": column, "lowercase": bool(p["lowercase"]),
        "strip_accents": {None: False, "unicode": True, "ascii": "ascii"}[strip],
        "analyzer": analyzer, "ngram_min": ngram_min, "ngram_max": ngram_max,
    }
    if analyzer == "word" and p.get("stop_words") is not None:
        stop = vectorizer.get_stop_words()
        spec["stop_words"] = sorted(str(w) for w in stop)

    if isinstance(vectorizer, HashingVectorizer):
        _check_float_dtype(vectorizer, vname)
        n_features = int(p["n_features"])
        if not 1 <= n_features <= 1 << 26:
            raise UnsupportedStep(vname, "n_features", f"{n_features} must be in 1...{1 << 26}")
        spec["vectorizer"] = {"type": "hashing", "n_features": n_features, "alternate_sign": bool(p["alternate_sign"]),
                              "norm": _norm(p["norm"], vname), "binary": bool(p["binary"])}
        return spec

    if not isinstance(vectorizer, CountVectorizer):
        raise UnsupportedStep(vname, "type", "not a supported text vectorizer")
    vocabulary = {str(term): int(index) for term, index in vectorizer.vocabulary_.items()}
    size = len(vocabulary)
    tfidf_params = _params(transformer) if transformer is not None else None
    if isinstance(vectorizer, TfidfVectorizer):
        _check_float_dtype(vectorizer, vname)
        tfidf_params = p
        idf_source: Any = vectorizer
    else:
        _check_float_dtype(vectorizer, vname, allow_int=True)
        idf_source = transformer
    if tfidf_params is None:  # CountVectorizer alone: raw counts
        idf = np.ones(size)
        norm, sublinear = "none", False
    else:
        if idf_source is transformer:
            tname = f"{step_name} ({_name(transformer)})"
            if len(transformer.idf_ if transformer.use_idf else np.ones(size)) != size:
                raise UnsupportedStep(tname, "idf_", "does not match the vocabulary")
        else:
            tname = vname
        idf = np.asarray(idf_source.idf_, dtype=np.float64) if tfidf_params["use_idf"] else np.ones(size)
        norm = _norm(tfidf_params["norm"], tname)
        sublinear = bool(tfidf_params["sublinear_tf"])
    spec["vectorizer"] = {"type": "tfidf", "vocabulary": vocabulary, "idf": weights.add(idf),
                          "sublinear_tf": sublinear, "norm": norm, "binary": bool(p["binary"])}
    return spec


def _norm(norm: Any, step_name: str) -> str:
    if norm is None:
        return "none"
    if norm in ("l1", "l2"):
        return str(norm)
    raise UnsupportedStep(step_name, "norm", f"{norm!r} is not supported (supported: 'l1', 'l2', None)")


# ----------------------------------------------------------------------- categorical


def category_text(value: Any) -> str | None:
    """The text Vigia compares a category by (FeatureValue.textForm); None for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(value, str):
        return value
    raise TypeError(f"category {value!r} of type {type(value).__name__}")


def _one_hot_specs(columns: list[str], steps: list[Any], step_name: str) -> list[dict[str, Any]]:
    """[SimpleImputer] then OneHotEncoder over `columns` -> one categorical spec per column.

    The layout (which column each category, an unknown value and a missing value set) is
    read from the fitted chain itself by transforming one probe row per category.
    """
    encoder = steps[-1]
    ename = f"{step_name} ({_name(encoder)})"
    for earlier in steps[:-1]:
        if not isinstance(earlier, SimpleImputer):
            raise UnsupportedStep(f"{step_name} ({_name(earlier)})", "type",
                                  "only a SimpleImputer may come before a OneHotEncoder")
        _check_imputer(earlier, f"{step_name} ({_name(earlier)})")
    p = _params(encoder)
    if p["handle_unknown"] not in ("ignore", "infrequent_if_exist"):
        raise UnsupportedStep(ename, "handle_unknown",
                              f"{p['handle_unknown']!r} is not supported (supported: 'ignore', 'infrequent_if_exist')")
    chain = Pipeline([(f"s{k}", s) for k, s in enumerate(steps)]) if len(steps) > 1 else encoder
    widths = list(getattr(encoder, "_n_features_outs", []))
    if len(widths) != len(columns):
        raise UnsupportedStep(ename, "categories_", "cannot tell each column's output width")
    specs = []
    offset = 0
    baseline = {c: encoder.categories_[k][0] for k, c in enumerate(columns)}

    def probe(column: str, value: Any) -> list[int]:
        row = {c: [baseline[c]] for c in columns}
        row[column] = [value]
        frame = pd.DataFrame(row, columns=columns).astype(object)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = chain.transform(frame)
        dense = out.toarray() if hasattr(out, "toarray") else np.asarray(out)
        return [int(i) for i in np.flatnonzero(dense[0, offset:offset + width])]

    for k, column in enumerate(columns):
        width = widths[k]
        cats = list(encoder.categories_[k])
        texts: list[str] = []
        positions: list[int | None] = []  # None: a dropped category (known, sets no column)
        for cat in cats:
            text = category_text(cat)
            if text is None:
                continue
            hit = probe(column, cat)
            if len(hit) > 1:
                raise UnsupportedStep(ename, "categories_", f"category {cat!r} sets {len(hit)} columns")
            texts.append(text)
            positions.append(hit[0] if hit else None)
        numeric = all(isinstance(c, (int, float, np.integer, np.floating)) for c in cats if category_text(c) is not None)
        unknown_value: Any = -987654321.123 if numeric else "\u0000vigia-unknown\u0000"
        unknown = probe(column, unknown_value)
        missing = probe(column, np.nan if numeric else None)
        if len(unknown) > 1 or len(missing) > 1:
            raise UnsupportedStep(ename, "handle_unknown", "an unknown or missing value sets several columns")
        spec: dict[str, Any] = {"type": "categorical", "field": column, "name": column, "categories": texts}
        plain = positions == list(range(len(texts))) and not unknown and width == len(texts) + (1 if missing else 0) \
            and (not missing or missing[0] == len(texts))
        if plain:
            spec["missing_slot"] = bool(missing)
        else:
            spec["layout"] = {"width": width, "columns": positions,
                              "unknown_column": unknown[0] if unknown else None,
                              "missing_column": missing[0] if missing else None}
        specs.append(spec)
        offset += width
    return specs


# --------------------------------------------------------------------------- numeric


def _check_imputer(imputer: SimpleImputer, name: str) -> None:
    p = _params(imputer)
    mv = p["missing_values"]
    if not (mv is None or (isinstance(mv, float) and math.isnan(mv)) or mv is pd.NA):
        raise UnsupportedStep(name, "missing_values", f"{mv!r} is not supported (supported: NaN or None)")
    if p.get("add_indicator"):
        raise UnsupportedStep(name, "add_indicator", "True is not supported")


def _numeric_specs(columns: list[str], steps: list[Any], step_name: str) -> list[dict[str, Any]]:
    """[SimpleImputer] [FunctionTransformer(np.log1p)] [one scaler] over numeric columns."""
    order = ["imputer", "log1p", "scaler"]
    seen: list[str] = []
    impute = [0.0] * len(columns)
    log1p = False
    mean = [0.0] * len(columns)
    scale = [1.0] * len(columns)
    for step in steps:
        sname = f"{step_name} ({_name(step)})"
        if isinstance(step, SimpleImputer):
            kind = "imputer"
            _check_imputer(step, sname)
            stats = np.asarray(step.statistics_, dtype=np.float64)
            if len(stats) != len(columns) or not np.all(np.isfinite(stats)):
                raise UnsupportedStep(sname, "statistics_", "a column was all missing at fit time (it would be dropped)")
            impute = [float(v) for v in stats]
        elif isinstance(step, FunctionTransformer) and _params(step)["func"] is None:
            continue  # the identity (what a passthrough remainder becomes once fitted)
        elif isinstance(step, FunctionTransformer):
            kind = "log1p"
            p = _params(step)
            if p["func"] is not np.log1p:
                raise UnsupportedStep(sname, "func", f"{p['func']!r} is not supported (supported: numpy.log1p)")
            if p.get("kw_args"):
                raise UnsupportedStep(sname, "kw_args", "must be empty")
            log1p = True
        elif isinstance(step, StandardScaler):
            kind = "scaler"
            # mean_ is fitted even with with_mean=False; only the parameters say what is applied.
            if _params(step)["with_mean"]:
                mean = [float(v) for v in step.mean_]
            if _params(step)["with_std"]:
                scale = [float(v) for v in step.scale_]
        elif isinstance(step, MinMaxScaler):
            kind = "scaler"
            if _params(step).get("clip"):
                raise UnsupportedStep(sname, "clip", "True is not supported")
            # x·s + m == (x − (−m/s)) / (1/s)
            mean = [float(-m / s) for m, s in zip(step.min_, step.scale_)]
            scale = [float(1.0 / s) for s in step.scale_]
        elif isinstance(step, MaxAbsScaler):
            kind = "scaler"
            scale = [float(s) for s in step.scale_]
        else:
            raise UnsupportedStep(sname, "type", "not a supported numeric step (SimpleImputer, "
                                  "FunctionTransformer(np.log1p), StandardScaler, MinMaxScaler, MaxAbsScaler)")
        if kind in seen or (seen and order.index(kind) < order.index(seen[-1])):
            raise UnsupportedStep(sname, "position", "numeric steps must be [SimpleImputer] [log1p] [one scaler], in that order")
        seen.append(kind)
    if log1p and "imputer" in seen and any(v <= -1 for v in impute):
        raise UnsupportedStep(step_name, "statistics_", "an imputed value <= -1 cannot go through log1p")
    return [{"type": "numeric", "field": c, "name": c, "log1p": log1p, "mean": mean[k], "scale": scale[k],
             "impute_value": impute[k]} for k, c in enumerate(columns)]


# ----------------------------------------------------------------------- estimators


def _linear(estimator: Any, name: str) -> tuple[np.ndarray, float]:
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.asarray(estimator.intercept_, dtype=np.float64).ravel()
    if coef.shape[0] != 1:
        raise UnsupportedStep(name, "classes_", f"{coef.shape[0] + (1 if coef.shape[0] > 1 else 0)} classes: "
                              "only two-class models are exported")
    return coef[0], float(intercept[0]) if len(intercept) else 0.0


def _multiclass_estimator(estimator: Any, weights: Weights) -> tuple[str, dict[str, Any]]:
    """K >= 3 classes: multinomial logistic regression (softmax over coef_ @ x + intercept_) or
    multinomial / complement naive Bayes (softmax over the joint log-likelihood)."""
    name = _name(estimator)
    k = len(estimator.classes_)
    if isinstance(estimator, LogisticRegression):
        multi_class = getattr(estimator, "multi_class", "auto")
        if multi_class == "ovr" or (multi_class in ("auto", "deprecated") and _params(estimator)["solver"] == "liblinear"):
            raise UnsupportedStep(name, "multi_class", f"one-vs-rest with {k} classes is not supported "
                                  "(supported: the multinomial model, scikit-learn's default with the lbfgs solver)")
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        intercept = np.asarray(estimator.intercept_, dtype=np.float64).ravel()
        if coef.shape[0] != k:
            raise UnsupportedStep(name, "coef_", f"{coef.shape[0]} rows for {k} classes")
        if len(intercept) == 0:
            intercept = np.zeros(k)
        return "logistic_regression", {"class_weights": [weights.add(row) for row in coef],
                                       "class_intercepts": [float(v) for v in intercept]}
    if isinstance(estimator, (ComplementNB, MultinomialNB)):
        flp = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        # ComplementNB's joint log-likelihood has no prior term for two or more classes.
        priors = [0.0] * k if isinstance(estimator, ComplementNB) else [float(v) for v in estimator.class_log_prior_]
        return "multinomial_nb", {"class_log_prior": priors, "feature_log_prob": [weights.add(row) for row in flp]}
    raise UnsupportedStep(name, "classes_", f"{k} classes: multi-class models are exported from LogisticRegression "
                          "(multinomial), MultinomialNB and ComplementNB; this estimator is exported with two classes only")


def _estimator(estimator: Any, weights: Weights) -> tuple[str, dict[str, Any]]:
    name = _name(estimator)
    classes = getattr(estimator, "classes_", None)
    if classes is not None and len(classes) > 2:
        return _multiclass_estimator(estimator, weights)
    if classes is not None and len(classes) != 2:
        raise UnsupportedStep(name, "classes_", f"{len(classes)} classes: a classifier needs at least two")
    if isinstance(estimator, LogisticRegression):
        coef, intercept = _linear(estimator, name)
        return "logistic_regression", {"weights": weights.add(coef), "intercept": intercept}
    if isinstance(estimator, SGDClassifier):
        loss = _params(estimator)["loss"]
        coef, intercept = _linear(estimator, name)
        if loss == "log_loss":
            return "logistic_regression", {"weights": weights.add(coef), "intercept": intercept}
        if loss == "modified_huber":
            return "modified_huber", {"weights": weights.add(coef), "intercept": intercept}
        raise UnsupportedStep(name, "loss", f"{loss!r} has no probabilities (supported: 'log_loss', "
                              "'modified_huber'; wrap others in CalibratedClassifierCV)")
    if isinstance(estimator, CalibratedClassifierCV):
        return _calibrated(estimator, weights)
    if isinstance(estimator, ComplementNB):
        flp = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        # ComplementNB's joint log-likelihood has no prior term for two or more classes.
        return "multinomial_nb", {"class_log_prior": [0.0, 0.0],
                                  "feature_log_prob": [weights.add(flp[0]), weights.add(flp[1])]}
    if isinstance(estimator, MultinomialNB):
        flp = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        return "multinomial_nb", {"class_log_prior": [float(v) for v in estimator.class_log_prior_],
                                  "feature_log_prob": [weights.add(flp[0]), weights.add(flp[1])]}
    if isinstance(estimator, BernoulliNB):
        threshold = _params(estimator)["binarize"]
        if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
            raise UnsupportedStep(name, "binarize", f"{threshold!r} is not supported (supported: None or >= 0)")
        flp = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        model: dict[str, Any] = {"class_log_prior": [float(v) for v in estimator.class_log_prior_],
                                 "feature_log_prob": [weights.add(flp[0]), weights.add(flp[1])]}
        if threshold is not None:
            model["binarize"] = float(threshold)
        return "bernoulli_nb", model
    raise UnsupportedStep(name, "type", "not a supported estimator (LogisticRegression, SGDClassifier, "
                          "CalibratedClassifierCV, MultinomialNB, ComplementNB, BernoulliNB)")


def _calibrated(estimator: CalibratedClassifierCV, weights: Weights) -> tuple[str, dict[str, Any]]:
    name = "CalibratedClassifierCV"
    method = _params(estimator)["method"]
    if method not in ("sigmoid", "isotonic"):
        raise UnsupportedStep(name, "method", f"{method!r} is not supported (supported: 'sigmoid', 'isotonic')")
    members = []
    for k, calibrated in enumerate(estimator.calibrated_classifiers_):
        base = calibrated.estimator
        while hasattr(base, "estimator") and not hasattr(base, "coef_"):  # FrozenEstimator
            base = base.estimator
        bname = f"{name}.calibrated_classifiers_[{k}] ({_name(base)})"
        if not isinstance(base, (LinearSVC, SGDClassifier, LogisticRegression)):
            raise UnsupportedStep(bname, "estimator", "only LinearSVC, SGDClassifier and LogisticRegression are supported")
        coef, intercept = _linear(base, bname)
        if len(calibrated.calibrators) != 1:
            raise UnsupportedStep(bname, "calibrators", "only two-class models are exported")
        calibrator = calibrated.calibrators[0]
        if method == "sigmoid":
            calibration: dict[str, Any] = {"method": "sigmoid", "a": float(calibrator.a_), "b": float(calibrator.b_)}
        else:
            if _params(calibrator).get("out_of_bounds") != "clip":
                raise UnsupportedStep(bname, "out_of_bounds", "only 'clip' is supported")
            calibration = {"method": "isotonic", "x": [float(v) for v in calibrator.X_thresholds_],
                           "y": [float(v) for v in calibrator.y_thresholds_]}
        members.append({"weights": weights.add(coef), "intercept": intercept, "calibration": calibration})
    return "calibrated_linear", {"members": members}


# -------------------------------------------------------------------------- pipeline


def _steps_of(transformer: Any) -> list[Any]:
    if isinstance(transformer, Pipeline):
        return [s for _, s in transformer.steps if s is not None and s != "passthrough"]
    return [transformer]


def _column_names(ct: ColumnTransformer, name: str, columns: Any) -> tuple[list[str], bool]:
    """Column names a ColumnTransformer entry selects, and whether it selects one as 1-D."""
    names = list(getattr(ct, "feature_names_in_", []))
    if isinstance(columns, str):
        return [columns], True
    if isinstance(columns, (int, np.integer)) and names:
        return [names[int(columns)]], True
    try:
        indices = ct._transformer_to_input_indices[name]
    except (AttributeError, KeyError):
        indices = None
    if indices is not None and names:
        return [names[i] for i in indices], False
    if isinstance(columns, (list, tuple, np.ndarray, pd.Index)) and all(isinstance(c, str) for c in columns):
        return [str(c) for c in columns], False
    raise UnsupportedStep(f"ColumnTransformer[{name}]", "columns", f"{columns!r} cannot be resolved to column names")


def convert(pipeline: Any) -> Conversion:
    """Translates a fitted Pipeline(ColumnTransformer, classifier) into manifest parts."""
    if not isinstance(pipeline, Pipeline):
        raise UnsupportedStep(_name(pipeline), "type", "export a Pipeline whose first step is a ColumnTransformer")
    steps = [s for _, s in pipeline.steps if s is not None and s != "passthrough"]
    if len(steps) != 2 or not isinstance(steps[0], ColumnTransformer):
        raise UnsupportedStep("Pipeline", "steps", "must be [ColumnTransformer, classifier] "
                              f"(got {[_name(s) for s in steps]})")
    ct, estimator = steps
    weights = Weights()
    transformers: list[dict[str, Any]] = []
    columns: list[Column] = []
    text_vectorizers: dict[str, Any] = {}
    for entry_name, transformer, selection in ct.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        names, one_dimensional = _column_names(ct, entry_name, selection)
        if not names:
            continue
        sname = f"ColumnTransformer[{entry_name}]"
        if isinstance(transformer, str) and transformer == "passthrough":
            transformers.extend(_numeric_specs(names, [], sname))
            columns.extend(Column(c, "numeric") for c in names)
            continue
        chain = _steps_of(transformer)
        if not chain:
            transformers.extend(_numeric_specs(names, [], sname))
            columns.extend(Column(c, "numeric") for c in names)
            continue
        if isinstance(chain[0], (CountVectorizer, HashingVectorizer)):
            if not one_dimensional or len(names) != 1:
                raise UnsupportedStep(sname, "columns", "a text vectorizer needs one column given as a string, e.g. 'title'")
            transformers.append(_text_spec(names[0], chain, sname, weights))
            columns.append(Column(names[0], "text"))
            text_vectorizers.setdefault(names[0], chain[0])
        elif isinstance(chain[-1], OneHotEncoder):
            transformers.extend(_one_hot_specs(names, chain, sname))
            columns.extend(Column(c, "categorical") for c in names)
        else:
            transformers.extend(_numeric_specs(names, chain, sname))
            columns.extend(Column(c, "numeric") for c in names)
    algorithm, model = _estimator(estimator, weights)
    labels = [category_text(c) or str(c) for c in estimator.classes_]
    if len(set(labels)) != len(labels):
        raise UnsupportedStep(_name(estimator), "classes_", f"class names {labels} are not distinct as text")
    conversion = Conversion(transformers=transformers, algorithm=algorithm, model=model, labels=labels,
                            columns=columns, weights=weights, text_vectorizers=text_vectorizers)
    if len(labels) > 2:
        conversion.format_version = 4  # multi-class models
    return conversion
