"""``python -m tinygrad_ste.figures``: the figure builder, which lives in :mod:`tinygrad_ste.tools.figures`."""
from tinygrad_ste.tools.figures import main

main()
