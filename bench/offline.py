#!/usr/bin/env python3
"""The offline comparison behind bench/offline.sh: a scikit-learn pipeline like the default
model (word 1-2-gram and char_wb 2-4-gram tf-idf, one-hot categories, log-scaled numbers,
logistic regression), exported to Vigia (parity-checked by the exporter), scored on the same
JSON Lines file by scikit-learn (read, predict_proba, write) and by `vigia predict`.

usage: offline.py prepare LISTINGS.csv WORK_DIR ROWS      (WORK_DIR/model.joblib, storage/, listings.jsonl)
       offline.py sklearn WORK_DIR OUT.jsonl              (prints 'sklearn: N rows in S s')
"""

from __future__ import annotations

import json
import sys
import time

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

TEXT = ["title"]
CATEGORIES = ["site_id", "category_id", "seller_reputation"]
NUMBERS = ["price_usd", "seller_age_days", "seller_sales"]
FEATURES = TEXT + CATEGORIES + NUMBERS


def pipeline() -> Pipeline:
    pre = ColumnTransformer([
        ("title", TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode", sublinear_tf=True, min_df=2), "title"),
        ("title_chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), strip_accents="unicode",
                                        sublinear_tf=True, min_df=3), "title"),
        ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORIES),
        ("numbers", Pipeline([("log", FunctionTransformer(np.log1p)), ("scale", StandardScaler())]), NUMBERS),
    ])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=2000))])


def prepare(listings_path: str, work: str, rows: int) -> None:
    from vigia_sklearn import export

    listings = pd.read_csv(listings_path, dtype={"id": str, "site_id": str, "title": str, "category_id": str,
                                                 "seller_reputation": str}, keep_default_na=False)
    model = pipeline().fit(listings[FEATURES], listings["is_prohibited"])
    joblib.dump(model, f"{work}/model.joblib")
    result = export(model, storage=f"{work}/storage", name="offline", sample=listings[FEATURES + ["id", "is_prohibited"]].head(5000),
                    id_column="id", label_column="is_prohibited", force=True)
    print(f"exported version {result.version}: parity max|Δp| = {result.parity.max_abs_difference:.3e} on {result.parity.rows} rows",
          file=sys.stderr)
    with open(f"{work}/listings.jsonl", "w", encoding="utf-8") as out:
        records = listings[FEATURES + ["id"]].to_dict(orient="records")
        for k in range(rows):
            record = dict(records[k % len(records)])
            record["id"] = f"{record['id']}-{k}"
            for name in NUMBERS:
                record[name] = float(record[name])
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def score(work: str, out_path: str) -> None:
    model = joblib.load(f"{work}/model.joblib")
    threshold = 0.5
    started = time.perf_counter()
    with open(f"{work}/listings.jsonl", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    frame = pd.DataFrame.from_records(records)
    scores = model.predict_proba(frame[FEATURES])[:, 1]
    with open(out_path, "w", encoding="utf-8") as out:
        for record, p in zip(records, scores):
            out.write(json.dumps({"id": record["id"], "score": float(p), "label": "prohibited" if p >= threshold else "allowed",
                                  "threshold": threshold}) + "\n")
    print(f"sklearn: {len(records)} rows in {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "sklearn":
        score(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
