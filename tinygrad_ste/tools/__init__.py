"""The project's builders, apart from the library: nothing in the library imports them.

* :mod:`.figures` -- ``python -m tinygrad_ste.figures``: every figure of the README and
  ``figures/numbers.json``, each caption's statements checked on the run that made them;
* :mod:`.book` -- ``python -m tinygrad_ste.book OUT_DIR``: the lessons, the chapter
  "Reading the source" and the API reference as an offline web book;
* :mod:`.model_measurements` -- ``python -m tinygrad_ste.models``: every lesson model trained
  in the variants the lessons compare, one printed table per model.

The ``python -m`` commands keep their short names: ``tinygrad_ste/figures/__main__.py``,
``tinygrad_ste/book/__main__.py`` and ``tinygrad_ste/models/__main__.py`` only forward here.
"""
