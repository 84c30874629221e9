#!/usr/bin/env bash
# The device check, prepared for a session that is lent a GPU machine: the CUDA tests and
# the quick GPU benchmarks in one command, with everything worth keeping under $OUT.
#
# The device image has torch, sympy, typer, hypothesis and pytest but not sympytorch or
# symengine: carry them as wheels for its Python (3.12), here, before the run:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 -d .whl sympytorch==0.1.4 symengine==0.15.0
# then run (carry .whl):  bash benchmarks/device_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/symgrad-device}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
# symgrad from the working tree (no install: the image cannot fetch build dependencies).
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_cuda.py tests/test_module.py \
  2>&1 | tee "$OUT/cuda-tests.log"
python3 -m benchmarks --quick --device cuda --out "$OUT" 2>&1 | tee "$OUT/benchmarks.log"
