#!/usr/bin/env bash
# The GPU check, one command on a machine with CUDA, run from the repository root:
#
#     bash bench/gpu_check.sh
#
# It makes a virtual environment, installs the project into it with its test extras (pip picks a CUDA torch,
# or a torch that python3 already imports is used as it is, with whatever else is installed beside it), then
# runs the items of bench/gpu_checks.py: the suite's CUDA tests; clf-tui train on CUDA and eval on both
# devices; compare, the region grid and the range test against the CPU; the app driven by Pilot; and
# bench/train.py --device cuda. It prints one PASS or FAIL line per item and exits 1 if any failed, within
# 8 minutes. The whole log goes to $OUT/gpu_check.log when OUT is set, else to ./gpu_check.log.
#
# Offline, pip installs from a folder of wheels and what is installed already: CLF_WHEELS=DIR, or ./.whl if
# there is one. On a machine that reaches PyPI,
#
#     bash bench/gpu_check.sh --fetch-wheels .whl
#
# downloads the packages a machine with PyTorch and the scientific stack lacks (the app's and the tests',
# about 5 MB, for Python ${CLF_WHEELS_PYTHON:-3.12}).
#
#     bash bench/gpu_check.sh --cpu-dry-run
#
# runs the same items on the CPU, small: it proves the check's plumbing, and nothing about CUDA.
#
# PYTHON (default python3) makes the environment; CLF_GPU_VENV (default $TMPDIR/clf-tui-gpu-venv) is where.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

fetch_wheels() {
    local dir=$1 python=${PYTHON:-python3}
    mkdir -p "$dir" || return 1
    "$python" -m pip download -q --only-binary=:all: --python-version "${CLF_WHEELS_PYTHON:-3.12}" \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 -d "$dir" \
        'textual>=8.2,<9' 'textual-plotext>=1.0' 'pytest-asyncio>=0.23' 'pytest-textual-snapshot>=1.0' \
        'setuptools>=77' && echo "wheels in $dir: $(ls "$dir" | wc -l) files, $(du -sh "$dir" | cut -f1)"
}

mode=cuda
case "${1:-}" in
    "") ;;
    --cpu-dry-run) mode=cpu ;;
    --fetch-wheels) fetch_wheels "${2:-.whl}"; exit $? ;;
    *) echo "usage: bash bench/gpu_check.sh [--cpu-dry-run | --fetch-wheels DIR]" >&2; exit 2 ;;
esac

log=${OUT:+$OUT/gpu_check.log}
log=${log:-gpu_check.log}
exec > >(tee "$log") 2>&1
tee_pid=$!
started=$(date +%s)

finish() {
    echo "gpu check: exit $1 after $(( $(date +%s) - started )) s; log in $log"
    exec 1>&- 2>&-
    wait "$tee_pid"
    exit "$1"
}

python=${PYTHON:-python3}
venv=${CLF_GPU_VENV:-${TMPDIR:-/tmp}/clf-tui-gpu-venv}
wheels=${CLF_WHEELS:-}
if [ -z "$wheels" ] && [ -d .whl ]; then wheels=.whl; fi

echo "== setup: $(uname -srm); $("$python" --version 2>&1); venv $venv${wheels:+; wheels from $wheels}"
command -v nvidia-smi >/dev/null && nvidia-smi -L

install() {
    if [ ! -x "$venv/bin/python" ]; then
        # Without ensurepip (a Python whose venv module cannot install pip), the environment borrows the pip
        # of the packages added below.
        "$python" -m venv "$venv" 2>/dev/null || { rm -rf "$venv" && "$python" -m venv --without-pip "$venv"; } ||
            return 1
        local existing
        existing=$("$python" -c "import os, sysconfig, torch
print(os.path.dirname(os.path.dirname(torch.__file__)))
print(sysconfig.get_paths()['purelib'])
print(sysconfig.get_paths()['platlib'])" 2>/dev/null | sort -u)
        if [ -n "$existing" ]; then
            # A torch that python3 imports (a CUDA build, on a GPU machine) is used as it is: its folders come
            # after the environment's own, so pip installs only what they lack.
            local own
            own=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
            printf '%s\n' "$existing" | "$venv/bin/python" -c "import sys
for folder in sys.stdin.read().split():
    print(f'import site; site.addsitedir({folder!r})')" >"$own/existing-packages.pth"
        fi
    fi
    local pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
    if [ -n "$wheels" ]; then
        # No index: the build backend comes from the wheels too, so build in this environment.
        "${pip[@]}" --no-index --find-links "$wheels" --no-deps 'setuptools>=77' &&
            "${pip[@]}" --no-index --find-links "$wheels" --no-build-isolation -e '.[test]'
    else
        "${pip[@]}" --retries 2 --timeout 30 -e '.[test]'
    fi
}

source_tree() {
    # The project without installing it: clf_tui/ with engine/, datasets/ and tui/ linked in, as the install
    # maps them, on PYTHONPATH.
    local shim="$venv-src"
    rm -rf "$shim" && mkdir -p "$shim/clf_tui" || return 1
    for f in "$PWD"/clf_tui/*; do ln -s "$f" "$shim/clf_tui/"; done
    for package in engine datasets tui; do ln -s "$PWD/$package" "$shim/clf_tui/$package"; done
    export PYTHONPATH="$shim${PYTHONPATH:+:$PYTHONPATH}"
}

if install; then
    run_python="$venv/bin/python"
    setup="PASS setup: installed into $venv"
else
    [ -x "$venv/bin/python" ] && run_python="$venv/bin/python" || run_python=$python
    source_tree
    setup="FAIL setup: pip could not install the project (see above); running it from the source tree"
fi
echo "$setup"

if ! "$run_python" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda,
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA device')"; then
    echo "FAIL setup: torch does not import"
    finish 1
fi
if [ "$mode" = cuda ] && ! "$run_python" -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
    echo "FAIL setup: torch sees no CUDA device (for a run without one: --cpu-dry-run)"
    finish 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/clf-tui-gpu-check.XXXXXX")
flags=(--work "$work" --setup "$setup")
[ "$mode" = cpu ] && flags+=(--cpu-dry-run)
PYTHONUNBUFFERED=1 "$run_python" bench/gpu_checks.py "${flags[@]}"
finish $?
