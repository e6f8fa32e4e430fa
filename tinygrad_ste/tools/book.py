"""Build the lessons as a static web book: every lesson executed, with its outputs, figures
and math, plus an API reference drawn from the docstrings.

    python -m tinygrad_ste.book OUT_DIR                       # execute the lessons, build the site
    python -m tinygrad_ste.book OUT_DIR --executed DIR        # use notebooks already executed into DIR

Open ``OUT_DIR/index.html`` in a browser: the site needs no server and no network.  Every
script, stylesheet and font it uses is copied into it; the math is typeset by the copy of
MathJax that the ``sphinx-mathjax-offline`` package ships.  Needs the ``book`` extra
(Sphinx, MyST-NB, the book theme).

Search works from disk too: it lists the pages that match.  The snippet under each result
needs the page itself, which a browser fetches only from a server, so the snippets show when
the folder is served (``python -m http.server -d OUT_DIR``, then http://localhost:8000).

How it works: the command writes a Sphinx source folder (an index page, one page per
lesson, the chapter "Reading the source", an API page) into ``OUT_DIR/.source`` and runs
Sphinx on it.  The chapter's listings are ``literalinclude`` directives with ``:pyobject:``,
so they show the package's source as it is when the book is built.  MyST-NB executes each
lesson unless ``--executed`` names a folder holding executed copies (the lesson tests write
them, so the test suite does not run every lesson twice).  ``--strict`` makes any Sphinx
warning an error, as the tests do.
"""
import argparse
import importlib.util
import io
import os
import shutil
import sys
from pathlib import Path

__all__ = ["build_book", "API_MODULES", "REPOSITORY", "READING_CHAPTER"]

PACKAGE = Path(__file__).resolve().parents[1]
REPOSITORY = PACKAGE.parent   # the checkout: lessons/ and README.md live here

# The chapter that walks the engine's source; its listings name files as tinygrad_ste/<file>.py.
READING_CHAPTER = Path(__file__).resolve().parent / "reading_the_source.md"

# The API page, in the order the package builds up (see tinygrad_ste/__init__.py).
# The tools (the builders of the book, the figures and the models' measurements) are left out.
API_MODULES = ["arrays", "function", "random", "threads", "dtypes", "keywords", "cuda", "tensor", "ops",
               "convolution", "functional", "creation", "tensor_functions", "discrete", "stochastic", "estimators", "gradcheck",
               "module", "nn", "losses", "moe", "vq", "fsq", "entropy", "kmeans", "optim", "serialization",
               "learned_baseline", "data",
               "models", "compare", "viz", "exercises"]

INDEX_PAGE = """\
# tinygrad_ste

```{{include}} {readme}
:start-line: 2
:end-before: "## Figures"
```

```{{toctree}}
:caption: Lessons
:maxdepth: 1

{lessons}
```

```{{toctree}}
:caption: The source
:maxdepth: 1

reading_the_source
api
```
"""

API_PAGE_HEADER = """\
# API reference

Every entry below is the docstring in the source: the formula, the shapes and the paper
each piece comes from.  The modules are listed in the order the package builds them up.
"""


def _escape_bars(app, what, name, obj, options, lines):
    """Docstrings here write |x| for an absolute value; reStructuredText would read a
    substitution.  Escape the bars (outside ``literals``) so the formula shows as written."""
    for i, line in enumerate(lines):
        parts = line.split("``")
        lines[i] = "``".join(part if k % 2 else part.replace("|", "\\|") for k, part in enumerate(parts))


# Sphinx's search fetches each result's page for the snippet under it; from file:// the browser
# blocks that fetch, so there the results are listed without snippets (and without errors).
_NO_SNIPPETS_FROM_DISK = 'DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = location.protocol !== "file:";'


def setup(app):
    """The book's own Sphinx extension (this module): the docstring clean-up above, and search
    that works from disk."""
    app.connect("autodoc-process-docstring", _escape_bars)
    app.add_js_file(None, body=_NO_SNIPPETS_FROM_DISK)


def _settings(execute, timeout):
    """The Sphinx configuration (what a ``conf.py`` would hold), as one dictionary."""
    mathjax = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static"
    return {
        "project": "tinygrad_ste",
        "extensions": ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "tinygrad_ste.tools.book"],
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "nb_execution_mode": "force" if execute else "off",
        "nb_execution_timeout": timeout,
        "nb_execution_raise_on_error": True,
        "html_theme": "sphinx_book_theme",
        "html_title": "tinygrad_ste: gradients through discrete operations",
        # One search box, in the sidebar: none in the header bar as well.
        "html_theme_options": {"use_download_button": True, "use_fullscreen_button": False,
                               "show_toc_level": 2, "navbar_persistent": []},
        # MathJax from the copy in the package, SVG output: no web fonts to fetch, so it
        # also renders from file:// where browsers refuse cross-file font loads.
        "html_static_path": [str(mathjax)],
        "mathjax_path": "mathjax/tex-svg.js",
        "autodoc_member_order": "bysource",
        "suppress_warnings": ["mystnb.unknown_mime_type", "myst.header"],
        "exclude_patterns": [".jupyter_cache", "tinygrad_ste"],   # the source the chapter quotes is no page
    }


def build_book(out_dir, lessons_dir=None, executed_dir=None, timeout=600, quiet=True, strict=False):
    """Write the site for every lesson in ``lessons_dir`` into ``out_dir``; returns ``out_dir/index.html``.

    ``executed_dir``: a folder with an executed copy of every lesson (same file names);
    without it each lesson is executed here, with this checkout's package on the kernel's path.
    ``strict``: a RuntimeError listing Sphinx's warnings if there are any (else they go to stderr).
    """
    from sphinx.application import Sphinx   # the book extra: imported only when a book is built

    out_dir = Path(out_dir).resolve()
    lessons_dir = Path(lessons_dir or REPOSITORY / "lessons").resolve()
    lessons = sorted(lessons_dir.glob("[0-9][0-9]_*.ipynb"))
    if not lessons:
        raise ValueError(f"book: no lessons (NN_name.ipynb) in {lessons_dir}")
    if executed_dir is not None:
        missing = [p.name for p in lessons if not (Path(executed_dir) / p.name).exists()]
        if missing:
            raise ValueError(f"book: {executed_dir} has no executed copy of {', '.join(missing)}")

    source = out_dir / ".source"
    shutil.rmtree(source, ignore_errors=True)
    (source / "lessons").mkdir(parents=True)
    for lesson in lessons:
        shutil.copy(Path(executed_dir) / lesson.name if executed_dir else lesson, source / "lessons" / lesson.name)
    shutil.copy(READING_CHAPTER, source / READING_CHAPTER.name)
    shutil.copytree(PACKAGE, source / "tinygrad_ste", ignore=shutil.ignore_patterns("__pycache__", "datasets"))
    readme = os.path.relpath(REPOSITORY / "README.md", source)
    (source / "index.md").write_text(INDEX_PAGE.format(
        readme=readme, lessons="\n".join(f"lessons/{p.stem}" for p in lessons)))
    (source / "api.md").write_text(API_PAGE_HEADER + "".join(
        f"\n## `tinygrad_ste.{name}`\n\n```{{eval-rst}}\n.. automodule:: tinygrad_ste.{name}\n   :members:\n```\n"
        for name in API_MODULES))

    # The kernels that execute the lessons, and autodoc, import this checkout's package.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    warnings = io.StringIO()
    app = Sphinx(str(source), None, str(out_dir), str(out_dir / ".doctrees"), "html",
                 confoverrides=_settings(executed_dir is None, timeout), status=None if quiet else sys.stdout,
                 warning=warnings, freshenv=True)
    app.build()
    if app.statuscode:
        raise RuntimeError(f"book: Sphinx failed with status {app.statuscode}:\n{warnings.getvalue()}")
    if strict and warnings.getvalue():
        raise RuntimeError(f"book: Sphinx warned (strict build):\n{warnings.getvalue()}")
    sys.stderr.write(warnings.getvalue())
    return out_dir / "index.html"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinygrad_ste.book", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="where to write the site (index.html and the rest)")
    parser.add_argument("--lessons", type=Path, default=None, help="lessons folder (default: lessons/ of the checkout)")
    parser.add_argument("--executed", type=Path, default=None, help="folder of already executed lesson notebooks")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a lesson cell may run (default 600)")
    parser.add_argument("--strict", action="store_true", help="fail on any Sphinx warning")
    args = parser.parse_args(argv)
    index = build_book(args.out_dir, args.lessons, args.executed, args.timeout, quiet=False, strict=args.strict)
    print(f"wrote {index}")


if __name__ == "__main__":
    main()
