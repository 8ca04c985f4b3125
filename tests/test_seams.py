"""The seams between the two stages, checked on the source: ``reid`` reaches ``flowprep`` only
through the names ``flowprep`` exports at its top level (the store reader and the flow estimator
interface), and ``flowreid``, which both stages share, imports neither of them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import flowprep

ROOT = Path(__file__).resolve().parents[1]


def imports(package: str) -> list[tuple[str, int, str, tuple[str, ...]]]:
    """(file, line, module, names) of every import in ``package``'s source, nested ones included."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = str(path.relative_to(ROOT))
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((where, node.lineno, node.module, tuple(a.name for a in node.names)))
            elif isinstance(node, ast.Import):
                found += [(where, node.lineno, alias.name, ()) for alias in node.names]
    return found


def stage(module: str) -> str:
    return module.split(".")[0]


def test_reid_imports_flowprep_only_through_its_public_names() -> None:
    public = set(flowprep.__all__) - {"__version__"}  # the version comes from flowreid
    wrong = []
    for where, line, module, names in imports("reid"):
        if stage(module) != "flowprep":
            continue
        if module != "flowprep" or not names or not set(names) <= public:
            wrong.append(f"{where}:{line}: {module} {names}")
    assert wrong == [], f"reid may import only `from flowprep import X` with X in {sorted(public)}"


def test_flowreid_imports_neither_stage() -> None:
    wrong = [f"{where}:{line}: {module}" for where, line, module, _ in imports("flowreid")
             if stage(module) in ("flowprep", "reid")]
    assert wrong == []


def test_flowprep_does_not_import_reid() -> None:
    assert [f"{where}:{line}" for where, line, module, _ in imports("flowprep") if stage(module) == "reid"] == []


def test_every_public_name_resolves() -> None:
    missing = [name for name in flowprep.__all__ if getattr(flowprep, name, None) is None]
    assert missing == []


def loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    return set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                              cwd=ROOT).stdout.split())


def test_importing_flowprep_loads_no_heavy_library() -> None:
    assert loaded_after("import flowprep") & {"h5py", "cv2", "torch"} == set()


def test_search_reaches_neither_the_pictures_nor_the_extraction() -> None:
    loaded = loaded_after("import reid.search")
    assert {m for m in loaded if m.startswith(("reid.visualize", "flowprep.extract"))} == set()


def test_the_errors_of_the_two_stages_are_siblings_under_one_base() -> None:
    from flowprep.errors import FlowprepError
    from flowreid.errors import UserError
    from reid.errors import ReidError

    assert issubclass(ReidError, UserError) and issubclass(FlowprepError, UserError)
    assert not issubclass(ReidError, FlowprepError) and not issubclass(FlowprepError, ReidError)
