#!/usr/bin/env python3
"""Sanity baseline for data/listings.csv: multinomial naive Bayes on title tokens (stdlib only).

Shows the dataset is learnable from text, that word pairs help (context, not single
keywords), and which families the errors come from. Not a model-quality claim: the
data is synthetic.  Usage: python3 data/baseline_nb.py [data/listings.csv]
"""
import collections
import csv
import math
import os
import random
import re
import sys
import unicodedata


def tokens(title, bigrams):
    t = unicodedata.normalize("NFD", title.lower())
    words = re.findall(r"\w+", "".join(c for c in t if unicodedata.category(c) != "Mn"))
    return words + ([a + "_" + b for a, b in zip(words, words[1:])] if bigrams else [])


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "listings.csv")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    random.Random(1).shuffle(rows)
    train, test = rows[:-5000], rows[-5000:]
    for bigrams in (False, True):
        counts = {0: collections.Counter(), 1: collections.Counter()}
        docs = {0: 0, 1: 0}
        for r in train:
            y = int(r["is_prohibited"])
            docs[y] += 1
            counts[y].update(tokens(r["title"], bigrams))
        vocab = len(set(counts[0]) | set(counts[1]))
        total = {y: sum(counts[y].values()) for y in (0, 1)}

        def log_odds(title):
            s = math.log(docs[1] / docs[0])
            for w in tokens(title, bigrams):
                s += math.log((counts[1][w] + 1) / (total[1] + vocab))
                s -= math.log((counts[0][w] + 1) / (total[0] + vocab))
            return s

        errors = collections.Counter()
        for r in test:
            if (log_odds(r["title"]) > 0) != (r["is_prohibited"] == "1"):
                errors[r["family"]] += 1
        n_err = sum(errors.values())
        print(f"{'unigrams+bigrams' if bigrams else 'unigrams'}: holdout accuracy "
              f"{1 - n_err / len(test):.4f} ({n_err} errors of {len(test)}); "
              f"by family: {dict(errors.most_common(6))}")
    noisy = sum(1 for r in test if (r["is_prohibited"] == "1") != (r["family"] in PROHIBITED))
    print(f"rows in the holdout whose label was flipped on purpose (noise floor): {noisy}")


PROHIBITED = {"medicines", "weapons", "counterfeit", "tobacco_vapes", "steroids", "wildlife",
              "documents", "medical_equipment", "signal_jammers"}

if __name__ == "__main__":
    main()
