"""The examples in the package's docstrings are run, so the textbook cannot drift from the code."""
import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import tinygrad_ste

MODULES = ["tinygrad_ste"] + [f"tinygrad_ste.{m.name}" for m in pkgutil.iter_modules(tinygrad_ste.__path__)]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    with np.printoptions(legacy=False):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"
