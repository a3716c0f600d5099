#!/usr/bin/env python3
"""Request bodies for bench/predict.sh from data/listings.csv (stdlib only, deterministic).

usage: make_bodies.py CSV OUTDIR [BATCH]      (BATCH defaults to 64)
Writes OUTDIR/single.json ({"instances":[one listing]}) and OUTDIR/batch.json
({"instances":[BATCH listings]}), and the same listings as Open Inference Protocol (V2)
infer bodies, OUTDIR/v2-single.json and OUTDIR/v2-batch.json: one input per field, BYTES
for text, FP64 for price_usd, INT64 for the counts, shape [N]; and as tritonclient.http sends
them by default (binary tensor data, all outputs asked for as binary), each in two files:
OUTDIR/v2-binary-single.json, the JSON header (its length is the request's
Inference-Header-Content-Length), and OUTDIR/v2-binary-single.bin, the tensor data after it
(the same for v2-binary-batch). A listing carries the model inputs only: id, site_id,
title, category_id, seller_reputation as JSON strings; price_usd, seller_age_days,
seller_sales as JSON numbers. The label columns (is_prohibited, family) are left out.
Rows are taken evenly spaced through the file so a batch mixes families and sites.
BODY_FIELDS (environment, comma-separated) keeps only those fields, for a model whose
signature asks for fewer inputs.
"""
import csv
import json
import os
import struct
import sys


def listing(row):
    return {
        "id": row["id"],
        "site_id": row["site_id"],
        "title": row["title"],
        "category_id": row["category_id"],
        "price_usd": float(row["price_usd"]),
        "seller_age_days": int(row["seller_age_days"]),
        "seller_sales": int(row["seller_sales"]),
        "seller_reputation": row["seller_reputation"],
    }


def v2_body(listings):
    """The listings as a V2 infer request: one column per field, in the listing's field order."""
    inputs = []
    for name in listings[0]:
        values = [listing[name] for listing in listings]
        datatype = "BYTES" if isinstance(values[0], str) else "INT64" if isinstance(values[0], int) else "FP64"
        inputs.append({"name": name, "datatype": datatype, "shape": [len(values)], "data": values})
    return {"inputs": inputs}


def v2_binary_body(listings):
    """The V2 body tritonclient.http writes for these columns with its defaults: inputs in the
    same order, each with parameters.binary_data_size and no data; 4-byte little-endian
    lengths before each BYTES element, little-endian INT64 and FP64; request parameters
    binary_data_output true (no outputs named); compact JSON, as tritonclient 2.73 writes it."""
    inputs, data = [], b""
    for tensor in v2_body(listings)["inputs"]:
        if tensor["datatype"] == "BYTES":
            raw = b"".join(struct.pack("<I", len(t.encode())) + t.encode() for t in tensor["data"])
        else:
            raw = struct.pack("<%d%s" % (len(tensor["data"]), "q" if tensor["datatype"] == "INT64" else "d"), *tensor["data"])
        inputs.append({"name": tensor["name"], "shape": tensor["shape"], "datatype": tensor["datatype"],
                       "parameters": {"binary_data_size": len(raw)}})
        data += raw
    header = {"inputs": inputs, "parameters": {"binary_data_output": True}}
    return json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode(), data


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: make_bodies.py CSV OUTDIR [BATCH]")
    path, out = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) < batch:
        sys.exit(f"{path}: {len(rows)} rows, need at least {batch}")
    step = len(rows) // batch
    picked = [listing(rows[i * step]) for i in range(batch)]
    keep = [f for f in os.environ.get("BODY_FIELDS", "").split(",") if f]
    if keep:
        unknown = [f for f in keep if f not in picked[0]]
        if unknown:
            sys.exit(f"BODY_FIELDS: unknown field(s) {unknown}; known: {list(picked[0])}")
        picked = [{f: p[f] for f in keep} for p in picked]
    os.makedirs(out, exist_ok=True)
    for name, instances in (("single.json", picked[:1]), ("batch.json", picked)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump({"instances": instances}, f, ensure_ascii=False, separators=(",", ":"))
        with open(os.path.join(out, "v2-" + name), "w", encoding="utf-8") as f:
            json.dump(v2_body(instances), f, ensure_ascii=False, separators=(",", ":"))
        header, data = v2_binary_body(instances)
        stem = os.path.join(out, "v2-binary-" + name[: -len(".json")])
        with open(stem + ".json", "wb") as f:
            f.write(header)
        with open(stem + ".bin", "wb") as f:
            f.write(data)
    print(f"wrote {out}/single.json (1 listing) and {out}/batch.json ({batch} listings), and their v2- and v2-binary- forms")


if __name__ == "__main__":
    main()
