"""python -m vigia_sklearn export PIPELINE.joblib --storage DIR --name NAME --sample FILE …"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import joblib

from .convert import UnsupportedStep
from .export import ExportError, export, read_sample


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vigia_sklearn")
    commands = parser.add_subparsers(dest="command", required=True)
    e = commands.add_parser("export", help="publish a fitted pipeline as the next version of a model")
    e.add_argument("pipeline", help="a joblib file holding a fitted Pipeline(ColumnTransformer, classifier)")
    e.add_argument("--storage", required=True, help="the model storage directory Vigia serves")
    e.add_argument("--name", required=True, help="the model name (a directory under --storage)")
    e.add_argument("--sample", required=True, help="rows to check parity on and take the example from (.csv or .jsonl)")
    e.add_argument("--id-column", help="the sample column that identifies a listing (echoed in responses)")
    e.add_argument("--label-column", help="the sample column with true labels (metrics on the sample)")
    e.add_argument("--signature", help="a JSON file with the signature to use instead of the inferred one")
    e.add_argument("--negative-class", action="append", metavar="NAME",
                   help="a multi-class estimator's allowed class (repeatable); the other classes add up to the score")
    e.add_argument("--class-threshold", action="append", metavar="NAME=VALUE", default=[],
                   help="a positive class's own threshold in [0, 1] (repeatable, multi-class estimators)")
    e.add_argument("--vigia", help="the vigia binary used for the parity check (default: $VIGIA, then PATH)")
    e.add_argument("--force", action="store_true",
                   help="publish even when the signature differs from the latest version's; "
                        "never skips the parity check")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # joblib files are pickles: loading one runs code, so only load pipelines you trust.
    pipeline = joblib.load(args.pipeline)
    sample = read_sample(args.sample)
    signature = json.loads(Path(args.signature).read_text(encoding="utf-8")) if args.signature else None
    thresholds: dict[str, float] = {}
    for item in args.class_threshold:
        name, _, value = item.partition("=")
        try:
            thresholds[name] = float(value)
        except ValueError:
            print(f"error: --class-threshold {item!r} is not NAME=VALUE with a number", file=sys.stderr)
            return 2
    try:
        result = export(pipeline, storage=args.storage, name=args.name, sample=sample, id_column=args.id_column,
                        label_column=args.label_column, signature=signature, force=args.force, vigia=args.vigia,
                        sample_name=Path(args.sample).name, log=lambda m: print(m, file=sys.stderr),
                        negative_classes=args.negative_class, class_thresholds=thresholds or None)
    except (UnsupportedStep, ExportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"published {args.name} version {result.version} ({result.algorithm}) at {result.directory}; "
          f"{result.parity.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
