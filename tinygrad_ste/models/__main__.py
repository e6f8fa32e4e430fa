"""``python -m tinygrad_ste.models``: the models' measurements, made by :mod:`tinygrad_ste.tools.model_measurements`."""
from tinygrad_ste.tools.model_measurements import print_measurements

print_measurements()
