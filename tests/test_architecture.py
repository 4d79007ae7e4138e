"""The one-way flow between the rooms, checked on every import statement of the source.

From the bottom up: ``acquisition`` imports nothing of ours; the model format and registry
(``bci_app.models``, with ``bci_app.errors``) import only ``acquisition``; ``decoders`` may
use those (and the alarm policy that travels in a forecasting model's card); ``federated`` may use ``decoders`` too; the rest of ``bci_app`` (CLI, sessions,
the live path) may use every room below it, except that the live path
(``bci_app.inference``) never reaches ``decoders`` or ``federated``; ``gui`` uses
``bci_app`` and ``acquisition``. The CLI's lazy launch of the desktop is the one entry
point allowed to reach up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("acquisition", "bci_app", "decoders", "federated", "gui")

MODEL_FORMAT = (
    "bci_app.models.format",
    "bci_app.models.registry",
    "bci_app.models.alarm",
    "bci_app.errors",
)

# (module prefix, what it may import of ours besides itself); the longest prefix applies.
RULES = {
    "acquisition": (),
    "bci_app.errors": (),
    "bci_app.models": ("acquisition", "bci_app.errors"),
    "decoders": ("acquisition", *MODEL_FORMAT),
    "federated": ("acquisition", "decoders", *MODEL_FORMAT),
    "bci_app": ("acquisition", "decoders", "federated"),
    "bci_app.inference": ("acquisition", "bci_app.models", "bci_app.errors"),
    "gui": ("acquisition", "bci_app"),
}
ENTRY_POINTS = {"bci_app.cli.gui": ("gui",)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[:2] == ["federated", "flower_app"]:  # the Flower app's own package, bci_flower
        parts = ["federated", *parts[3:]]
    return ".".join(parts)


def rule_for(module: str) -> tuple[str, tuple[str, ...]]:
    prefix = max(
        (p for p in RULES if module == p or module.startswith(p + ".")), key=len, default=None
    )
    assert prefix is not None, f"{module} belongs to no room"
    return prefix, RULES[prefix] + ENTRY_POINTS.get(module, ())


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in names if name.split(".")[0] in OURS]


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


SOURCES = sorted(path for room in OURS for path in (ROOT / room).rglob("*.py"))


def upward_imports(module: str, source: str) -> list[str]:
    """Return the imports of ``module`` (its source text) that its room may not make."""
    prefix, allowed = rule_for(module)
    upward = []
    for line, name in imported(ast.parse(source)):
        target = rule_for(name)[0]
        permitted = any(within(name, item) for item in allowed)
        if not (within(target, prefix) or permitted):
            upward.append(f"line {line}: {name}")
    return upward


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_one_way(path):
    module = module_name(path)
    upward = upward_imports(module, path.read_text())
    assert not upward, f"{module} may use {rule_for(module)[1] or 'nothing of ours'}: {upward}"


def test_an_upward_import_is_caught():
    assert upward_imports("decoders.x", "from bci_app.session import training") == [
        "line 1: bci_app.session.training"
    ]
    assert upward_imports("federated.x", "import bci_app.models.publish") == [
        "line 1: bci_app.models.publish"
    ]
    assert upward_imports("bci_app.inference.x", "from decoders import registry") == [
        "line 1: decoders.registry"
    ]
    assert upward_imports("acquisition.x", "def f():\n    from gui import app") == [
        "line 2: gui.app"
    ]
    assert upward_imports("bci_app.cli.gui", "from gui.app import main") == []
    assert upward_imports("decoders.x", "from bci_app.models.registry import ModelRegistry") == []


def test_the_rules_see_every_room():
    assert {module_name(path).split(".")[0] for path in SOURCES} == set(OURS)
