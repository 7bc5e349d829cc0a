"""Imports point down: the layers of STYLE.md, checked on the source.

Every import statement counts, at the top or inside a function (the graph of
`test_import_cycles`). A lower package never imports a higher one, and packages on one level do
not import each other; where a lower one must reach a higher one it sends a signal, or names a
model as a string and reaches it through the relation. Tests stand above everything and are not
checked.
"""

import ast

import pytest

from skinsite.tests.test_import_cycles import _project_modules, import_graph

# Bottom to top. `skinsite` is the ground (settings, lib, the API base, the Celery app);
# `skinsite.urls` wires every app and is the top.
LAYERS: list[tuple[str, ...]] = [
    ("skinsite",),
    ("training",),
    ("measurement",),
    ("inference",),
    ("accounts",),
    ("lesions", "education"),
    ("sharing",),
    ("backups",),  # reads every app's tables through Django's registry, imports none of them
    ("skinsite.urls",),
]
# Beside the top: they may import any layer, and nothing imports them (loadtest reuses faults' stack).
BESIDE_TOP = ("evaluation", "faults", "loadtest")
# Importable without Django, so training runs on a GPU box and measurement anywhere.
NO_DJANGO = ("training", "measurement")


def _package(module: str) -> str:
    if module == "skinsite.urls" or module.startswith("skinsite.urls."):
        return "skinsite.urls"
    return module.split(".")[0]


def _level(package: str) -> int:
    for level, packages in enumerate(LAYERS):
        if package in packages:
            return level
    raise KeyError(package)


def _checked(module: str) -> bool:
    parts = module.split(".")
    return not ("tests" in parts or parts[0] in ("conftest", "manage") or _package(module) not in _known())


def _known() -> set[str]:
    return {p for layer in LAYERS for p in layer} | set(BESIDE_TOP)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import from a module to one on its own level in another package, or above it."""
    wrong = []
    for module, imports in sorted(graph.items()):
        if not _checked(module):
            continue
        source = _package(module)
        for target in sorted(imports):
            destination = _package(target)
            if destination == source or (source == "skinsite.urls" and destination == "skinsite"):
                continue
            if destination in BESIDE_TOP:
                if not (source == "loadtest" and destination == "faults"):
                    wrong.append(f"{module} -> {target} (nothing imports {destination})")
            elif source not in BESIDE_TOP and _level(destination) >= _level(source):
                wrong.append(f"{module} -> {target}")
    return wrong


def test_every_package_has_a_place():
    packages = {_package(m) for m in _project_modules() if _checked(m) or _package(m) not in ("conftest", "manage")}
    packages -= {"conftest", "manage"}
    assert packages <= _known(), f"packages without a layer: {sorted(packages - _known())}"


def test_the_checker_finds_an_upward_and_a_sideways_import():
    graph = {
        "training.data": {"inference.engine"},
        "education.views": {"lesions.models"},
        "lesions.views": {"evaluation.bench"},
        "sharing.views": {"lesions.models", "training.contract"},
        "lesions.tests.test_x": {"sharing.models"},
    }
    assert upward_imports(graph) == [
        "education.views -> lesions.models",
        "lesions.views -> evaluation.bench (nothing imports evaluation)",
        "training.data -> inference.engine",
    ]


def test_no_import_points_up():
    wrong = upward_imports(import_graph())
    assert wrong == [], "imports that point up or sideways:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", NO_DJANGO)
def test_the_lower_libraries_import_no_django(package):
    modules = _project_modules()
    found = []
    for name, path in modules.items():
        if _package(name) != package or "tests" in name.split("."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            found += [f"{name}: {n}" for n in names if n.split(".")[0] in ("django", "rest_framework", "celery")]
    assert found == []
