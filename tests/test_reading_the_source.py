"""The chapter "Reading the source" of the web book: every listing names a live object.

The chapter's listings are ``literalinclude`` directives with ``:pyobject:``, which Sphinx
resolves when the book is built; this test resolves them by import, without building the book
(``test_web_book.py`` builds it), so renaming or moving a function the chapter shows fails here.
"""
import importlib
import inspect
import re
from pathlib import Path

from tinygrad_ste.tools.book import READING_CHAPTER, REPOSITORY

LISTING = re.compile(r"^```\{literalinclude\} (\S+)\n:pyobject: (\S+)$", re.M)


def test_every_listing_of_the_reading_chapter_names_an_object_of_its_file():
    text = READING_CHAPTER.read_text()
    listings = LISTING.findall(text)
    assert len(listings) >= 6, "the chapter walks six stops, each with at least one listing"
    assert text.count("{literalinclude}") == len(listings), "a listing without :pyobject: on its next line"
    for path, name in listings:
        obj = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        for part in name.split("."):
            assert hasattr(obj, part), f"{READING_CHAPTER.name} lists {name} from {path}, which has no such object"
            obj = getattr(obj, part)
        defined_in = Path(inspect.getsourcefile(inspect.unwrap(getattr(obj, "__func__", obj))))
        assert defined_in == REPOSITORY / path, f"{READING_CHAPTER.name} lists {name} from {path}, but it is " \
                                                f"defined in {defined_in.relative_to(REPOSITORY)}"
