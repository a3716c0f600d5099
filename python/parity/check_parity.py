#!/usr/bin/env python3
"""Exporter parity check: fits one pipeline per group of supported steps on data/listings.csv,
exports each through vigia_sklearn (which scores every sample row with scikit-learn and with
`vigia predict` and refuses to publish when a probability differs by more than 1e-9), and
prints the figures. The sample is the listings plus an adversarial text set.

usage: check_parity.py LISTINGS.csv STORAGE_DIR [--rows N]   (VIGIA=/path/to/vigia)
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import unicodedata
import warnings

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler, MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from vigia_sklearn import export

ADVERSARIAL_PIECES = [
    # accents and combining marks (NFC here; NFD variants are added below)
    "Pistola réplica CORAÇÃO ação señal über naïve façade", "ÉCOLE Ångström Øre Œuvre Ǆemal",
    "e\u0301cole a\u0308 n\u0303 \u0301\u0301 solo marks", "Ḱ̈ stacked ǭ̄ marks q\u0307\u0323",
    # special case mappings, ligatures, compatibility characters
    "İstanbul İİ ıi STRASSE Straße ß ẞ", "ΟΔΟΣ ΣΟΦΟΣ Σ σς", "ﬁnal ﬂag ﬀ ﬃ ﬆ Ǳ ǲ ǳ",
    "㎏ ㎞ № ℡ ™ ① ② Ⅻ ⅻ x² H₂O ½ ¼ ℌ ℍ ﹏ ︴", "Ａ Ｂ ＰＩＳＴＯＬＡ ｐｉｓｔｏｌａ ９ｍｍ",
    # digits and underscores
    "9mm 12x __init__ a_b _ __ 1_000 ٣٤٥ ١٢ ١٢٣ ۴۵ १२३ ১২৩ 𝟗𝟖", "x 1 22 333 a1 1a _a a_",
    # emoji, CJK, right-to-left
    "🔫 pistola 🔫🔫 👨‍👩‍👧 👍🏽 ❤️ 🇧🇷", "東京タワー 手枪 仿真枪 권총 장난감 ｶﾀｶﾅ",
    "אקדח צעצוע مسدس لعبة \u200fRTL\u200e mark", "पिस्तौल खिलौना ปืนพก ของเล่น ქართული",
    # zero-width, tabs, newlines, non-breaking spaces, other separators
    "pis\u200btola gl\u200cock 9\u200dmm \ufeffbom \u2060wj", "a\tb\t\tc \t d", "line1\nline2\r\nline3\n\n",
    "nb\u00a0sp\u00a0\u00a0x \u202fnarrow \u2007fig", "\u2028ls \u2029ps \u3000ideo \x1cfs \x1dgs \x85nel",
    "   leading and trailing   ", "",
]


def adversarial_titles(base: list[str], rng: random.Random, count: int) -> list[str]:
    pieces = ADVERSARIAL_PIECES + [unicodedata.normalize("NFD", p) for p in ADVERSARIAL_PIECES] \
        + [unicodedata.normalize("NFKC", p) for p in ADVERSARIAL_PIECES]
    titles = list(pieces)
    titles.append("pistola airsoft " * 1500)  # ~24,000 characters
    titles.append("ñ" * 5000)
    titles.append(" ".join(base[:300]))
    while len(titles) < count:
        parts = [rng.choice(pieces) for _ in range(rng.randint(1, 3))] + [rng.choice(base)]
        rng.shuffle(parts)
        title = rng.choice([" ", "", "\t", "\n", "\u00a0"]).join(parts)
        if rng.random() < 0.3:
            title = title.upper() if rng.random() < 0.5 else unicodedata.normalize("NFD", title)
        titles.append(title)
    return titles


def sample_frame(listings: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    adversarial = max(1500, rows // 8)
    base = listings.sample(n=min(len(listings), rows - adversarial), random_state=seed).reset_index(drop=True)
    extra = listings.sample(n=adversarial, random_state=seed + 1, replace=True).reset_index(drop=True)
    extra["title"] = adversarial_titles(list(listings["title"]), rng, adversarial)
    extra["id"] = [f"ADV{k:05d}" for k in range(adversarial)]
    extra.loc[rng.sample(range(adversarial), 40), "category_id"] = "UNSEEN-CATEGORY"
    return with_missing_values(pd.concat([base, extra], ignore_index=True), seed)


def with_missing_values(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Copies of two columns with 5% of values missing, for the pipelines that impute."""
    frame = frame.copy()
    holes = np.random.default_rng(seed).random(len(frame)) < 0.05
    frame["seller_sales_or_missing"] = frame["seller_sales"].astype("float64").where(~holes)
    frame["reputation_or_missing"] = frame["seller_reputation"].astype(object).where(~holes, None)
    return frame


def pipelines() -> dict[str, Pipeline]:
    def pipe(columns: list, estimator, remainder="drop") -> Pipeline:
        return Pipeline([("pre", ColumnTransformer(columns, remainder=remainder)), ("clf", estimator)])

    imputed_log_scaled = Pipeline([("imp", SimpleImputer(strategy="median")), ("log", FunctionTransformer(np.log1p)),
                                   ("sc", StandardScaler())])
    return {
        # The peers' pipeline (bench/peers): TF-IDF word 1-2-grams, one-hot, scaler, logistic regression.
        "peers_tfidf_onehot_scaler_logreg": pipe([
            ("title", TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode", sublinear_tf=True), "title"),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id"]),
            ("num", StandardScaler(), ["price_usd", "seller_age_days"])], LogisticRegression(max_iter=1000)),
        "charwb_ascii_tfidftransformer_l1_drop_minmax_sgdlog": pipe([
            ("title", Pipeline([("cv", CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), strip_accents="ascii",
                                                       min_df=3)),
                                ("tf", TfidfTransformer(norm="l1", smooth_idf=False))]), "title"),
            ("cat", OneHotEncoder(handle_unknown="ignore", drop="first"), ["site_id", "category_id"]),
            ("num", MinMaxScaler(), ["price_usd", "seller_age_days"])],
            SGDClassifier(loss="log_loss", alpha=1e-5, random_state=0)),
        "char_nolower_binary_maxabs_modifiedhuber": pipe([
            ("title", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False, binary=True, norm=None,
                                      max_features=20000), "title"),
            ("num", MaxAbsScaler(), ["price_usd", "seller_age_days"])],
            SGDClassifier(loss="modified_huber", alpha=1e-4, random_state=0)),
        "hashing_infrequent_imputer_log1p_calibrated_linearsvc_sigmoid": pipe([
            ("title", HashingVectorizer(n_features=2 ** 18, ngram_range=(1, 2)), "title"),
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=40), ["category_id"]),
            ("num", imputed_log_scaled, ["seller_sales_or_missing", "price_usd"])],
            CalibratedClassifierCV(LinearSVC(C=0.5), method="sigmoid", cv=3, ensemble=True)),
        "stopwords_maxcategories_imputed_category_calibrated_sgdhinge_isotonic": pipe([
            ("title", TfidfVectorizer(stop_words="english", strip_accents="unicode"), "title"),
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=12), ["category_id"]),
            ("rep", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="unknown")),
                              ("oh", OneHotEncoder(handle_unknown="ignore"))]), ["reputation_or_missing"])],
            CalibratedClassifierCV(SGDClassifier(loss="hinge", random_state=0), method="isotonic", cv=3, ensemble=False)),
        "count_binary_multinomialnb": pipe([
            ("title", CountVectorizer(binary=True, ngram_range=(1, 2)), "title"),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id", "seller_reputation"])], MultinomialNB(alpha=0.5)),
        "tfidf_complementnb": pipe([
            ("title", TfidfVectorizer(sublinear_tf=True, strip_accents="unicode", ngram_range=(1, 2), min_df=2), "title"),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id"])], ComplementNB()),
        "count_bernoullinb": pipe([
            ("title", CountVectorizer(strip_accents="unicode"), "title"),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["site_id"])], BernoulliNB(alpha=1.0)),
        "passthrough_remainder_nomean_ifbinary_logreg": pipe([
            ("title", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), max_features=30000), "title"),
            ("num", StandardScaler(with_mean=False), ["price_usd"]),
            ("flag", OneHotEncoder(drop="if_binary", handle_unknown="ignore"), ["site_id"])],
            LogisticRegression(C=3.0, max_iter=100), remainder="passthrough"),
        # Multi-class: the prohibited family of a listing, or "allowed".
        "family_tfidf_onehot_scaled_multinomial_logreg": pipe([
            ("title", TfidfVectorizer(sublinear_tf=True, strip_accents="unicode", ngram_range=(1, 2), min_df=2), "title"),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id", "site_id"]),
            ("num", imputed_log_scaled, ["price_usd", "seller_age_days"])], LogisticRegression(C=4.0, max_iter=300)),
        "family_count_onehot_multinomialnb": pipe([
            ("title", CountVectorizer(ngram_range=(1, 2), strip_accents="unicode"), "title"),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["category_id"])], MultinomialNB(alpha=0.2)),
        "family_tfidf_complementnb": pipe([
            ("title", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=3, max_features=20000), "title")],
            ComplementNB(alpha=0.5)),
    }

PROHIBITED_FAMILIES = {"medicines", "weapons", "counterfeit", "tobacco_vapes", "steroids", "wildlife", "documents",
                       "medical_equipment", "signal_jammers"}


def family_class(families: pd.Series) -> pd.Series:
    """The multi-class label: the prohibited family, or "allowed" for every other family."""
    return families.where(families.isin(PROHIBITED_FAMILIES), "allowed")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("listings")
    parser.add_argument("storage")
    parser.add_argument("--rows", type=int, default=10_000, help="sample rows scored by both engines")
    parser.add_argument("--train-rows", type=int, default=12_000, help="listings rows each pipeline is fitted on")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    listings = pd.read_csv(args.listings, dtype={"id": str, "site_id": str, "title": str, "category_id": str,
                                                 "seller_reputation": str}, keep_default_na=False)
    sample = sample_frame(listings, args.rows, seed=7)
    training = with_missing_values(listings.sample(n=min(len(listings), args.train_rows), random_state=1), seed=3)
    worst = 0.0
    print(f"sample: {len(sample)} rows ({(sample['id'].str.startswith('ADV')).sum()} adversarial titles)")
    for name, pipeline in pipelines().items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        features = [c for c in sample.columns if c not in ("is_prohibited", "family", "id")]
        if name.startswith("passthrough"):
            features = ["title", "price_usd", "site_id", "seller_age_days", "seller_sales"]
        if name.startswith("family"):
            pipeline.fit(training[features], family_class(training["family"]))
            labelled = sample[features + ["id"]].assign(family_class=family_class(sample["family"]))
            result = export(pipeline, storage=args.storage, name=name.replace("_", "-"), sample=labelled, id_column="id",
                            label_column="family_class", negative_classes=["allowed"], force=True)
        else:
            pipeline.fit(training[features], training["is_prohibited"])
            result = export(pipeline, storage=args.storage, name=name.replace("_", "-"),
                            sample=sample[features + ["id", "is_prohibited"]], id_column="id",
                            label_column="is_prohibited", force=True)
        worst = max(worst, result.parity.max_abs_difference)
        print(f"{name:70s} {result.algorithm:20s} rows={result.parity.rows} "
              f"max|Δp|={result.parity.max_abs_difference:.3e} ({time.perf_counter() - started:.1f} s)")
    print(f"max |Δprobability| over every pipeline: {worst:.3e} (limit 1e-9)")
    return 0 if worst <= 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
