"""The layer contract of docs/architecture.md, checked on the real import graph (grimp reads
every import statement, function-level ones included, so none can hide an arrow or a cycle)."""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("rag", "ingest", "ui", "eval", "newsrag")
# Who may import whom, beyond itself. ``rag`` is the core; ``newsrag`` the composition root.
ALLOWED = {
    "rag": set(),
    "ingest": {"rag"},
    "ui": {"rag", "ingest"},
    "eval": {"rag", "ingest"},
    "newsrag": {"rag", "ingest", "ui", "eval"},
}
# Applications see only the public front of the packages below them (``rag.X``, ``ingest.X``
# as exported by their ``__init__``), never a module inside.
PUBLIC_ONLY = {"ui": {"rag", "ingest"}, "eval": {"rag", "ingest"}, "newsrag": {"rag"}}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, include_external_packages=False)


def _imports(graph):
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            yield importer, imported


def _lines(graph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    return "; ".join(f"{importer}:{d['line_number']} {d['line_contents']}" for d in details)


def test_layers_only_point_down(graph):
    wrong = [
        _lines(graph, importer, imported)
        for importer, imported in _imports(graph)
        if (top := imported.split(".")[0]) != (own := importer.split(".")[0])
        and top not in ALLOWED[own]
    ]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_applications_use_only_public_names(graph):
    wrong = [
        _lines(graph, importer, imported)
        for importer, imported in _imports(graph)
        if imported.split(".")[0] in PUBLIC_ONLY.get(importer.split(".")[0], ())
        and "." in imported
        and imported.split(".")[-1] != "offline"  # the offline flags: an import for its effect
    ]
    assert not wrong, "private modules used from outside their package:\n" + "\n".join(wrong)


def test_no_import_cycles(graph):
    cycles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert not cycles, f"import cycles: {cycles}"


def _strongly_connected(graph) -> list[list[str]]:
    """Tarjan's algorithm over the module graph (iterative: the graph is small, but deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: a graph with a planted cycle is reported."""
    planted = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        planted.add_module(module)
    planted.add_import(importer="a.x", imported="a.y")
    planted.add_import(importer="a.y", imported="a.x")
    planted.add_import(importer="a.y", imported="a.z")
    assert [c for c in _strongly_connected(planted) if len(c) > 1] == [["a.x", "a.y"]]


# The store is below answering and retrieval: its parts keep what is stored, never how it is
# searched or read (#27).
STORE_MUST_NOT_IMPORT = ("rag.answer", "rag.retrieve", "rag.engine", "rag.compose", "rag.plan")
MODULE_LINES = 420  # "no module over ~400 lines"


def test_the_store_parts_import_nothing_of_answering_or_retrieval(graph):
    parts = sorted(m for m in graph.modules if m == "rag.store" or m.startswith("rag.store."))
    assert len(parts) >= 8, parts  # the package, its facade and its parts
    wrong = [
        _lines(graph, part, imported)
        for part in parts
        for imported in sorted(graph.find_modules_directly_imported_by(part))
        if imported.startswith(STORE_MUST_NOT_IMPORT)
    ]
    assert not wrong, "the store reaches up:\n" + "\n".join(wrong)


@pytest.mark.parametrize("package", ["rag.store", "ui"])
def test_the_store_and_the_chat_window_are_made_of_small_modules(package):
    from importlib import import_module
    from pathlib import Path

    folder = Path(import_module(package).__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert max(sizes.values()) <= MODULE_LINES, sizes


BUILD_APP_LINES = 40  # the page's layout, composed from panels; their events live with them


def test_the_chat_window_is_composed_from_panels():
    import inspect

    from ui.app import build_app

    assert len(inspect.getsource(build_app).splitlines()) <= BUILD_APP_LINES
