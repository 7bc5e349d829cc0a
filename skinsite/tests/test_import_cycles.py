"""No module imports another in a circle, directly or through others.

Every import statement counts, wherever it sits: at the top, inside a function, under
`if TYPE_CHECKING:`. An import tucked into a function still makes the two modules depend on each
other; it only hides the circle from Python until the day it bites. The graph is read from the
source with `ast`, so nothing is imported to check it.
"""

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SKIP_DIRS = {"var", "static", "node_modules", "templates", "reports", "testdata", "docker"}


def _project_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(BASE_DIR.rglob("*.py")):
        parts = path.relative_to(BASE_DIR).parts
        if parts[0] in SKIP_DIRS or any(part.startswith(".") for part in parts):
            continue
        # Folders without __init__.py outside the repository's root are not packages we import.
        if any(not (BASE_DIR.joinpath(*parts[:i]) / "__init__.py").exists() for i in range(1, len(parts))):
            continue
        name = ".".join(parts)[: -len(".py")]
        modules[name.removesuffix(".__init__")] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, including the packages Python runs on the way."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                # `from a import b` imports the module a.b when there is one, else a name from a.
                wanted.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    found = set()
    for module in wanted:
        parts = module.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {module for module in found if module in modules and module != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete circle through the component, for the failure message."""
    members, start = set(component), component[0]
    trail, node, seen = [start], start, {start}
    while True:
        node = sorted(graph[node] & members)[0]
        trail.append(node)
        if node in seen:
            return trail[trail.index(node) :]
        seen.add(node)


def import_graph() -> dict[str, set[str]]:
    modules = _project_modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_the_graph_sees_the_project_and_function_level_imports():
    graph = import_graph()
    assert {"lesions.models", "sharing.services", "inference.services", "training.contract"} <= set(graph)
    assert "inference.models" in graph["lesions.selectors"]
    # inference.services imports the engine inside functions (TensorFlow stays out of the web process).
    assert "inference.engine" in graph["inference.services"]


def test_the_checker_finds_a_circle_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _path(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_no_module_imports_another_in_a_circle():
    graph = import_graph()
    components = _cycles(graph)
    circles = [" -> ".join(_path(graph, c)) for c in components]
    assert circles == [], "import circles:\n" + "\n".join(circles)
