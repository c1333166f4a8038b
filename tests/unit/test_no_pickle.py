"""No product code can unpickle: a model or checkpoint file is data, never code.

Model versions and training checkpoints are safetensors (tensors plus JSON),
checked by ``tests/unit/core/test_registry.py`` and ``tests/unit/trainer/
test_fit.py``; this scan keeps pickle-based loaders out of every package.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "core", "infra", "stream", "trainer", "anomstream", "evaluation")
UNPICKLERS = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "joblib", "cloudpickle"}
PICKLING_CALLS = {("torch", "load"), ("torch", "save"), ("numpy", "load"), ("np", "load")}


def _sources() -> list[Path]:
    return sorted(
        p for pkg in PACKAGES if (REPO / pkg).is_dir() for p in (REPO / pkg).rglob("*.py")
    )


def _offences(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in UNPICKLERS]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNPICKLERS:
            found.append(f"from {node.module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and (owner.id, node.func.attr) in PICKLING_CALLS:
                found.append(f"{owner.id}.{node.func.attr}()")
        elif isinstance(node, ast.keyword) and node.arg in {"weights_only", "allow_pickle"}:
            found.append(f"{node.arg}=")
    return found


def test_the_scan_sees_the_packages() -> None:
    assert len(_sources()) > 50


def test_no_module_can_unpickle() -> None:
    found = {str(p.relative_to(REPO)): o for p in _sources() if (o := _offences(p.read_text()))}
    assert found == {}


def test_the_scan_finds_what_it_looks_for() -> None:
    source = "import pickle\nimport torch\ntorch.load('m.pt', weights_only=False)\n"
    assert _offences(source) == ["pickle", "torch.load()", "weights_only="]
