"""Exporter tests. Those that publish need the real `vigia` binary ($VIGIA or PATH), which
scripts/check-exporter.sh provides."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer, OneHotEncoder, StandardScaler

from vigia_sklearn import ExportError, UnsupportedStep, convert, export
from vigia_sklearn.export import infer_signature

TITLES = ["pistola airsoft preta", "camiseta algodao azul", "pistola de brinquedo", "tenis corrida branco",
          "réplica pistola 9mm", "caneca ceramica", "munição calibre 38", "livro de receitas"]


def frame(rows: int = 64) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    titles = [TITLES[k % len(TITLES)] for k in range(rows)]
    return pd.DataFrame({
        "id": [f"L{k}" for k in range(rows)],
        "title": titles,
        "category_id": [f"C{k % 5}" for k in range(rows)],
        "price_usd": rng.uniform(1, 500, rows).round(2),
        "label": [int(any(w in t for w in ("pistola", "munição"))) for t in titles],
    })


def pipeline(text: object = None, estimator: object = None, extra: list | None = None) -> Pipeline:
    columns = [("title", text or TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode"), "title"),
               ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id"]),
               ("num", StandardScaler(), ["price_usd"])] + (extra or [])
    return Pipeline([("pre", ColumnTransformer(columns)), ("clf", estimator or LogisticRegression(max_iter=1000))])


def fitted(p: Pipeline, data: pd.DataFrame | None = None) -> Pipeline:
    data = frame() if data is None else data
    return p.fit(data.drop(columns=["label"]), data["label"])


def vigia_binary() -> str:
    path = os.environ.get("VIGIA") or shutil.which("vigia")
    if not path:
        pytest.skip("no vigia binary (set VIGIA)")
    return path


# ------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("build, step, parameter", [
    (lambda: pipeline(TfidfVectorizer(tokenizer=str.split, token_pattern=None)), "TfidfVectorizer", "tokenizer"),
    (lambda: pipeline(TfidfVectorizer(preprocessor=str.lower)), "TfidfVectorizer", "preprocessor"),
    (lambda: pipeline(TfidfVectorizer(token_pattern=r"\b\w+\b")), "TfidfVectorizer", "token_pattern"),
    (lambda: pipeline(TfidfVectorizer(dtype=np.float32)), "TfidfVectorizer", "dtype"),
    (lambda: pipeline(extra=[("f", FunctionTransformer(lambda x: x * 2), ["price_usd"])]), "FunctionTransformer", "func"),
    (lambda: pipeline(extra=[("k", KBinsDiscretizer(n_bins=3), ["price_usd"])]), "KBinsDiscretizer", "type"),
    (lambda: pipeline(estimator=SGDClassifier(loss="hinge")), "SGDClassifier", "loss"),
])
def test_unsupported_steps_are_refused_naming_step_and_parameter(build, step: str, parameter: str) -> None:
    with pytest.raises(UnsupportedStep) as refused:
        convert(fitted(build()))
    assert step in str(refused.value)
    assert refused.value.parameter == parameter


def test_one_hot_that_raises_on_unknown_values_is_refused() -> None:
    p = Pipeline([("pre", ColumnTransformer([("cat", OneHotEncoder(), ["category_id"])])), ("clf", LogisticRegression())])
    with pytest.raises(UnsupportedStep) as refused:
        convert(fitted(p))
    assert refused.value.parameter == "handle_unknown"


def families(rows: int = 90) -> pd.DataFrame:
    """Three classes told apart by the title: weapons, medicines and allowed goods."""
    data = frame(rows)
    words = {"weapons": ["pistola 9mm", "munição calibre 38", "revólver"], "medicines": ["remédio tarja preta",
             "comprimido sem receita", "ampola injetável"], "allowed": ["camiseta algodao", "caneca ceramica", "tenis"]}
    names = sorted(words)
    data["label"] = [names[k % 3] for k in range(rows)]
    data["title"] = [f"{words[c][(k // 3) % 3]} {['novo', 'usado', 'kit'][k % 3]}" for k, c in enumerate(data["label"])]
    return data


def test_multi_class_estimators_without_a_softmax_form_are_refused() -> None:
    data = families()
    with pytest.raises(UnsupportedStep) as refused:
        convert(fitted(pipeline(estimator=SGDClassifier(loss="log_loss", random_state=0)), data))
    assert refused.value.parameter == "classes_"
    assert "LogisticRegression (multinomial), MultinomialNB and ComplementNB" in str(refused.value)
    with pytest.raises(UnsupportedStep) as one_vs_rest:
        convert(fitted(pipeline(estimator=OneVsRestClassifier(LogisticRegression())), data))
    assert one_vs_rest.value.parameter == "classes_"


def test_a_multi_class_export_needs_its_allowed_classes(tmp_path: Path) -> None:
    data = families()
    model = fitted(pipeline(), data)
    sample = data.drop(columns=["label"])
    with pytest.raises(ExportError, match="needs its allowed classes"):
        export(model, storage=tmp_path, name="families", sample=sample, vigia="/bin/true")
    with pytest.raises(ExportError, match="'tobacco' is not one of the estimator's classes"):
        export(model, storage=tmp_path, name="families", sample=sample, negative_classes=["tobacco"], vigia="/bin/true")
    with pytest.raises(ExportError, match="not a positive class"):
        export(model, storage=tmp_path, name="families", sample=sample, negative_classes=["allowed"],
               class_thresholds={"allowed": 0.3}, vigia="/bin/true")
    assert not (tmp_path / "families").exists() or not list((tmp_path / "families").iterdir())


@pytest.mark.parametrize("estimator", [LogisticRegression(C=5.0, max_iter=2000), MultinomialNB(alpha=0.3), ComplementNB()],
                         ids=["multinomial-logreg", "multinomialnb", "complementnb"])
def test_a_multi_class_pipeline_exports_every_class_with_parity(tmp_path: Path, estimator: object) -> None:
    vigia = vigia_binary()
    data = families()
    nonnegative = isinstance(estimator, (MultinomialNB, ComplementNB))
    model = fitted(pipeline(estimator=estimator, extra=None) if not nonnegative else Pipeline([
        ("pre", ColumnTransformer([("title", TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode"), "title"),
                                   ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id"])])),
        ("clf", estimator)]), data)
    result = export(model, storage=tmp_path, name="families", sample=data, id_column="id", label_column="label",
                    negative_classes=["allowed"], class_thresholds={"weapons": 0.3}, vigia=vigia)
    assert result.parity.rows == len(data)
    assert result.parity.max_abs_difference <= 1e-9
    manifest = json.loads((result.directory / "model.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == 4
    assert manifest["labels"] == ["allowed", "medicines", "weapons"]
    assert manifest["positive_classes"] == ["medicines", "weapons"]
    assert manifest["class_thresholds"] == {"weapons": 0.3}
    assert manifest["metrics"]["values"]["class_accuracy"] == 1.0
    # The served probabilities are scikit-learn's, class by class.
    probabilities = model.predict_proba(data.drop(columns=["label"]))
    records = [{"id": i, "title": t, "category_id": c, "price_usd": float(p)}
               for i, t, c, p in zip(data["id"], data["title"], data["category_id"], data["price_usd"])]
    served = _vigia_lines(vigia, result.directory, records[:12])
    for k, line in enumerate(served):
        assert list(line["scores"]) == ["allowed", "medicines", "weapons"]
        assert max(abs(line["scores"][c] - probabilities[k][j]) for j, c in enumerate(model.classes_)) <= 1e-9
        assert abs(line["score"] - probabilities[k][1] - probabilities[k][2]) <= 1e-9
        p = line["scores"]
        if line["score"] >= 0.5:
            assert line["label"] == max(("medicines", "weapons"), key=p.get)
        elif p["weapons"] >= 0.3:
            assert line["label"] == "weapons"
        else:
            assert line["label"] == "allowed"


def _vigia_lines(vigia: str, directory: Path, records: list[dict]) -> list[dict]:
    import subprocess
    done = subprocess.run([vigia, "predict", "--model", str(directory), "--input", "-"], check=True, capture_output=True,
                          text=True, input="".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_bare_estimator_is_refused() -> None:
    with pytest.raises(UnsupportedStep):
        convert(LogisticRegression().fit([[0.0], [1.0]], [0, 1]))


# ------------------------------------------------------------------------ signature


def test_signature_marks_columns_with_missing_values_optional_and_types_from_the_sample() -> None:
    data = frame()
    data.loc[3, "price_usd"] = np.nan
    conversion = convert(fitted(pipeline(), frame()))
    signature = infer_signature(conversion.columns, data, "id")
    fields = {f["name"]: f for f in signature["fields"]}
    assert signature["id_field"] == "id"
    assert fields["title"] == {"name": "title", "type": "string", "required": True}
    assert fields["price_usd"]["type"] == "number" and fields["price_usd"]["required"] is False
    assert fields["category_id"]["type"] == "string"


# ------------------------------------------------------------------------ publishing


def test_export_publishes_consecutive_versions_with_checksums_and_parity(tmp_path: Path) -> None:
    vigia = vigia_binary()
    data = frame()
    model = fitted(pipeline())
    first = export(model, storage=tmp_path, name="items", sample=data, id_column="id", label_column="label", vigia=vigia)
    second = export(model, storage=tmp_path, name="items", sample=data, id_column="id", vigia=vigia)
    assert (first.version, second.version) == (1, 2)
    assert first.parity.rows == len(data) and first.parity.max_abs_difference <= 1e-9
    directory = tmp_path / "items" / "1"
    manifest = json.loads((directory / "model.json").read_text(encoding="utf-8"))
    assert manifest["name"] == "items" and manifest["version"] == 1
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == digest
    provenance = json.loads((directory / "sklearn.json").read_text(encoding="utf-8"))
    assert provenance["scikit_learn"]
    expected = model.predict_proba(data[["title", "category_id", "price_usd"]].iloc[:1])[0, 1]
    assert abs(manifest["example"]["expected_score"] - expected) <= 1e-12
    assert manifest["metrics"]["confusion_matrix"]["true_positive"] > 0
    assert not [p for p in (tmp_path / "items").iterdir() if p.name.startswith(".")]
    # The labelled export carries the evaluation report and the card; the unlabelled one only the card.
    assert {"report.html", "metrics.json", "MODEL_CARD.md"} <= set(manifest["files"])
    report = json.loads((directory / "metrics.json").read_text(encoding="utf-8"))
    assert report["overall"]["rows"] == len(data)
    assert report["overall"]["positives"] == int((data["label"] == model.classes_[1]).sum())
    assert (directory / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    card = (directory / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert card.startswith("# Model card: items version 1\n") and "scikit_learn=" not in card
    assert "| scikit_learn |" in card and "## Metrics" in card and "ROC-AUC" in card
    unlabelled = json.loads((tmp_path / "items" / "2" / "model.json").read_text(encoding="utf-8"))["files"]
    assert "MODEL_CARD.md" in unlabelled and "report.html" not in unlabelled
    assert "No labelled evaluation" in (tmp_path / "items" / "2" / "MODEL_CARD.md").read_text(encoding="utf-8")


def fake_vigia(tmp_path: Path, score: float) -> str:
    """An executable that answers every line with one fixed score: a second engine that disagrees."""
    script = tmp_path / "disagreeing-vigia"
    script.write_text("#!/usr/bin/env python3\nimport sys, json\n"
                      "lines = open(sys.argv[sys.argv.index('--input') + 1], encoding='utf-8').read().splitlines()\n"
                      f"print('\\n'.join(json.dumps({{'id': None, 'score': {score}}}) for _ in lines))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_a_parity_failure_publishes_nothing_even_with_force(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    with pytest.raises(ExportError, match="parity check failed"):
        export(fitted(pipeline()), storage=storage, name="items", sample=frame(), force=True,
               vigia=fake_vigia(tmp_path, 0.5))
    assert list((storage / "items").iterdir()) == []


def test_a_changed_signature_needs_force(tmp_path: Path) -> None:
    vigia = vigia_binary()
    data = frame()
    export(fitted(pipeline()), storage=tmp_path, name="items", sample=data, vigia=vigia)
    narrower = Pipeline([("pre", ColumnTransformer([("title", TfidfVectorizer(), "title")])), ("clf", LogisticRegression())])
    narrower.fit(data[["title"]], data["label"])
    with pytest.raises(ExportError, match="signature differs"):
        export(narrower, storage=tmp_path, name="items", sample=data, vigia=vigia)
    assert export(narrower, storage=tmp_path, name="items", sample=data, vigia=vigia, force=True).version == 2


# --------------------------------------------------------------------------- input profile


def test_export_stores_the_input_profile_in_the_shape_vigia_train_writes(tmp_path: Path) -> None:
    vigia = vigia_binary()
    data = frame(120)
    data.loc[[3, 50], "price_usd"] = np.nan
    data.loc[9, "title"] = "kryptonite zzqx unheard words"
    model = Pipeline([("pre", ColumnTransformer([
        ("title", TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode", min_df=2), "title"),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id"]),
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), ["price_usd"]),
    ])), ("clf", LogisticRegression(max_iter=1000))])
    model.fit(data.drop(columns=["label"]), data["label"])
    result = export(model, storage=tmp_path, name="items", sample=data, id_column="id", vigia=vigia)
    profile = json.loads((result.directory / "model.json").read_text())["profile"]
    assert profile["rows"] == 120
    fields = {f["name"]: f for f in profile["fields"]}
    assert list(fields) == ["title", "category_id", "price_usd"], "signature order, without the id field"

    # The same members per kind as the default model `vigia train` wrote.
    trained_manifest = max((Path(__file__).parents[2] / "models/prohibited-items").glob("*/model.json"),
                           key=lambda p: int(p.parent.name))
    trained = {f["kind"]: set(f) for f in json.loads(trained_manifest.read_text())["profile"]["fields"]}
    for field in fields.values():
        assert set(field) == trained[field["kind"]], field["name"]

    prices = data["price_usd"].dropna().to_numpy()
    price = fields["price_usd"]
    assert price["kind"] == "numeric"
    assert price["missing_rate"] == 2 / 120
    assert np.allclose(price["quantiles"], np.quantile(prices, [k / 10 for k in range(11)]), rtol=0, atol=1e-9)
    edges = price["bins"]["edges"]
    assert edges == sorted(set(edges)) and len(price["bins"]["shares"]) == len(edges) + 1
    assert np.allclose(price["bins"]["shares"], np.bincount(np.searchsorted(edges, prices, side="left"),
                                                             minlength=len(edges) + 1) / len(prices))

    category = fields["category_id"]
    assert category["kind"] == "categorical" and category["missing_rate"] == 0
    shares = data["category_id"].dropna().value_counts(normalize=True)
    assert category["distinct"] == len(shares) and category["other_share"] == 0
    assert {t["value"]: t["share"] for t in category["top"]} == pytest.approx(shares.to_dict())
    assert [t["share"] for t in category["top"]] == sorted((t["share"] for t in category["top"]), reverse=True)

    title = fields["title"]
    assert title["kind"] == "text" and title["missing_rate"] == 0
    vectorizer = model.named_steps["pre"].named_transformers_["title"]
    terms = [len(vectorizer.build_analyzer()(t)) for t in data["title"]]
    assert np.allclose(title["quantiles"], np.quantile(terms, [k / 10 for k in range(11)]), rtol=0, atol=1e-9)
    # Every term but those of the one title seen once (min_df=2) is in the vocabulary.
    unseen = len(vectorizer.build_analyzer()("kryptonite zzqx unheard words"))
    assert title["vocabulary_share"] == pytest.approx((sum(terms) - unseen) / sum(terms))
