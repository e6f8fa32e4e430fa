"""The package's layers, as listed in the docstring of tinygrad_ste/__init__.py, are true.

Every import in every module of the package (at the top of a file or inside a function) is
read with ``ast`` and must name a module of the same layer or of a layer above it.
"""
import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_ste"
INIT = PACKAGE / "__init__.py"
WHERE = "the numbered list of layers in the docstring of tinygrad_ste/__init__.py"


def layers():
    """{module: its layer number}, from the docstring's lines 'N. module, module -- what they hold'."""
    listed = {}
    for number, names in re.findall(r"^(\d+)\. ([\w, ]+?) -- ", ast.get_docstring(ast.parse(INIT.read_text())), re.M):
        for name in names.split(", "):
            assert name not in listed, f"{name} is listed in two layers of {WHERE}"
            listed[name] = int(number)
    return listed


def package_modules():
    """{module: its files}: a top-level .py file is a module, a subpackage (models/) is one with all its files.

    Left out: the package's front door, which imports everything by design, and the ``__main__.py``
    of each ``python -m`` command, which is run, never imported (an entry point, like a lesson)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative != Path("__init__.py") and path.name != "__main__.py":
            modules.setdefault(relative.parts[0].removesuffix(".py"), []).append(path)
    return modules


def imported_modules(path):
    """The package's modules that the file at ``path`` imports, each with the line of the import."""
    package_parts = ["tinygrad_ste", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package_parts[:len(package_parts) - node.level + 1] if node.level else []
            base += node.module.split(".") if node.module else []
            # 'from . import ops' names modules after the package; 'from .ops import Add' names one module
            targets = [base + [alias.name] for alias in node.names] if base == ["tinygrad_ste"] else [base]
        else:
            continue
        found += [(target[1], node.lineno) for target in targets if target[0] == "tinygrad_ste" and len(target) > 1]
    return found


def test_the_layer_list_names_exactly_the_modules_of_the_package():
    listed, present = set(layers()), set(package_modules())
    assert not present - listed, (f"modules not in any layer: {sorted(present - listed)}; add each to {WHERE}, "
                                  "in the first layer after every module it imports")
    assert not listed - present, f"{WHERE} names modules that do not exist: {sorted(listed - present)}"


@pytest.mark.parametrize("module", sorted(package_modules()))
def test_a_module_imports_only_from_its_layer_and_those_above(module):
    layer_of = layers()
    if module not in layer_of:
        pytest.skip("not in the layer list (the test above says where to add it)")
    for path in package_modules()[module]:
        for imported, line in imported_modules(path):
            if imported not in layer_of:
                continue   # a name from tinygrad_ste/__init__.py itself (tg.Tensor), or a missing module
            assert layer_of[imported] <= layer_of[module], (
                f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported} (layer {layer_of[imported]}), "
                f"but {module} is in layer {layer_of[module]}: a module may import only from its own layer "
                f"and those above it; move one of them in {WHERE}, or the code to where it belongs")


def test_the_checker_sees_imports_of_every_form():
    source = PACKAGE / "models" / "glimpse.py"   # 'from .. import functional as F' and 'from ..nn import MLP'
    imported = {name for name, _ in imported_modules(source)}
    assert {"functional", "nn", "tensor", "models"} <= imported
    assert {name for name, _ in imported_modules(PACKAGE / "function.py")} == {"tensor"}   # 'from . import tensor'
