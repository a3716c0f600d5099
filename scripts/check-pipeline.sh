#!/usr/bin/env bash
# check-pipeline.sh — the DVC pipeline (dvc.yaml) on a fresh clone of the committed tree,
# with DVC from PyPI at a pinned version (venv $VENVS/dvc, default /opt/vigia-venvs/dvc):
#   1. `dvc repro` reproduces the committed default model byte for byte: weights.bin,
#      dataset.json and model.json but its "created" line; the metrics file and the data
#      equal the committed ones;
#   2. `dvc metrics show` reads the metrics; `dvc push` to a local remote, then a second
#      clone of the run's commit `dvc pull`s the trained model and finds the pipeline up to
#      date (`dvc status`);
#   3. `dvc exp run -S train.logistic_c=2` trains an experiment without editing a file;
#      `dvc params diff` shows the change and `dvc exp show` lists it.
# Uses $VIGIA_BIN, else .build/release/vigia (built when missing). Prints the sha256 of the
# weights before and after; exits non-zero on a difference.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
. scripts/lib/venv.sh
venv dvc "dvc==3.67.1" "dvc-s3==3.3.0"
export PATH=$venvs/dvc/bin:$PATH DVC_NO_ANALYTICS=1
if [ -z "${VIGIA_BIN:-}" ]; then
  [ -x .build/release/vigia ] || swift build -c release --product vigia
  VIGIA_BIN=$repo/.build/release/vigia
fi
export VIGIA_BIN
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=models/prohibited-items/1
git config --global --get user.email >/dev/null || export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@localhost \
  GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@localhost

git clone -q "$repo" "$work/clone"
cd "$work/clone"
echo "weights before dvc repro: $(sha256sum $model/weights.bin)"
dvc repro
echo "weights after dvc repro:  $(sha256sum $model/weights.bin)"
status=0
same() { # what command...
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; status=1; fi
}
same "weights.bin is byte-identical" git diff --quiet -- $model/weights.bin
same "dataset.json is byte-identical" git diff --quiet -- $model/dataset.json
same "model.json differs in its creation time only" \
  diff <(git show "HEAD:$model/model.json" | grep -v '^  "created" : ') <(grep -v '^  "created" : ' $model/model.json)
same "the metrics file equals the committed one" git diff --quiet -- pipeline/metrics.json
same "the data equals the committed file" git diff --quiet -- data/listings.csv
same "no other file of the clone changed" \
  test -z "$(git status --porcelain --untracked-files=all | grep -v -e " dvc.lock$" -e " $model/model.json$")"
dvc metrics show
same "dvc metrics show reads the robustness rows" bash -c 'dvc metrics show --json | grep -q "false_alarm_rate"'

# The run as a commit, its outputs pushed to a local remote; a second clone pulls them.
dvc remote add -d --local ci "$work/remote"
git commit -qam "pipeline run"
dvc push
git clone -q "$work/clone" "$work/pulled"
(
  cd "$work/pulled"
  dvc remote add -d --local ci "$work/remote"
  dvc pull
  same "dvc pull brings the trained model" diff -r pipeline/train "$work/clone/pipeline/train"
  same "after dvc pull the pipeline is up to date" bash -c 'dvc status | grep -q "up to date"'
) || status=1

# An experiment from the command line: params.yaml is changed by DVC, not by hand.
dvc exp run -S train.logistic_c=2
dvc params diff
same "dvc params diff shows logistic_c 4 → 2" bash -c 'dvc params diff --json | grep -q "train.logistic_c"'
dvc exp show --no-pager --md --only-changed
same "dvc exp show lists the experiment with logistic_c 2" bash -c "dvc exp show --json | grep -q '\"logistic_c\": 2'"
same "the experiment trained another model" bash -c "! git diff --quiet -- $model/weights.bin"
exit $status
