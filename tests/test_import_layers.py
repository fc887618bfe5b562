"""The packages of hms import one way only, as drawn in docs/architecture.md ("Packages and their directions").

Every `import` and `from ... import` in hms is read with ast, the ones inside functions too, so a function-level
import cannot hide a cycle. A package may import its own modules and packages of LOWER layers, never one of its
own layer or above. The foundation (config, extensions, common, models) is one knot of infrastructure and may
import itself; the app factory (hms/__init__.py) and the worker's entry (celery_app's module __getattr__) are the
composition roots that wire everything together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HMS = Path(__file__).resolve().parent.parent / "hms"

# Lowest first. Keep in step with the diagram in docs/architecture.md.
LAYERS: list[set[str]] = [
    {"config", "extensions", "common", "models"},  # foundation
    {"celery_app"},  # publishing tasks after commit
    {"audit", "notifications"},  # what every domain records and sends
    {"accounts", "scheduling"},  # credentials; the appointment book
    {"directory", "clinical", "reports", "analytics", "health", "desk"},
    {"exports", "billing"},  # billing prints with reports' PDF renderer
    {"fhir", "demo"},
    {"hms"},  # the app factory
]
FOUNDATION = LAYERS[0]
LAYER_OF = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
# The composition roots: (importing module, imported package) pairs that run upward on purpose.
ROOTS = {("hms.celery_app", "hms")}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "hms":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in LAYER_OF else "hms"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every hms import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "hms":  # `from hms import scheduling` names a package; `import create_app` the root
                found += [(node.lineno, f"hms.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "hms"]


def forbidden_imports(root: Path = HMS) -> list[str]:
    """Every import that runs sideways or upward, as 'file:line: a -> b'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        source = _package(module)
        assert source in LAYER_OF, f"{module}: a new package? give it a layer in LAYERS and the diagram"
        for line, imported in _imports(path):
            target = _package(imported)
            if target is None or target == source:
                continue
            if source in FOUNDATION and target in FOUNDATION:
                continue
            if source == "hms" or (module, target) in ROOTS:
                continue
            if LAYER_OF[target] >= LAYER_OF[source]:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {source} -> {target}")
    return problems


def test_packages_import_only_lower_layers():
    assert forbidden_imports() == []


def test_every_package_has_a_layer():
    packages = {p.name for p in HMS.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in HMS.glob("*.py") if p.stem != "__init__"}
    assert packages | modules <= set(LAYER_OF)


@pytest.mark.parametrize(
    ("file", "line"),
    [
        ("accounts/service.py", "from hms.directory.service import doctor_dict"),  # the old circle
        ("accounts/views.py", "    from hms.demo.loader import load_demo_data"),  # upward, hidden in a function
        ("scheduling/booking.py", "from hms.accounts import service"),  # sideways, same layer
    ],
)
def test_a_forbidden_import_is_found(tmp_path, file, line):
    """The check itself can fail: a copy of hms with one forbidden import added is refused."""
    copy = tmp_path / "hms"
    for path in HMS.rglob("*.py"):
        target = copy / path.relative_to(HMS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    changed = copy / file
    changed.write_text(changed.read_text() + ("\n\ndef _added() -> None:\n" if line.startswith(" ") else "\n") + line)
    problems = forbidden_imports(copy)
    assert len(problems) == 1 and problems[0].startswith(f"hms/{file}:"), problems
