"""``python -m tinygrad_ste.book``: the web-book builder, which lives in :mod:`tinygrad_ste.tools.book`."""
from tinygrad_ste.tools.book import main

main()
