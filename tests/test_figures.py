import json

import pytest
from PIL import Image

from tinygrad_ste import figures


def test_every_figure_is_written_at_quick_settings(tmp_path, capsys):
    figures.main(["--quick", "--out", str(tmp_path)])
    written = sorted(p.stem for p in tmp_path.glob("*.png"))
    assert written == sorted(figures.FIGURES)
    for path in tmp_path.glob("*.png"):
        width, height = Image.open(path).size
        assert width > 300 and height > 200, f"{path.name} is {width}x{height}"
    assert capsys.readouterr().out.count("wrote ") == len(figures.FIGURES)
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    assert list(numbers) == list(figures.FIGURES)   # one entry per figure, in the registry's order
    assert all(isinstance(value, (int, float)) for entry in numbers.values() for value in entry.values())


def test_one_figure_by_name_and_a_clear_error_for_an_unknown_one(tmp_path, capsys):
    figures.main(["--quick", "--out", str(tmp_path), "staircase"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["numbers.json", "staircase.png"]
    with pytest.raises(SystemExit):
        figures.main(["--out", str(tmp_path), "no_such_figure"])
    assert "unknown figure(s) no_such_figure" in capsys.readouterr().err


def test_figures_reproduce_exactly(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    figures.main(["--quick", "--out", str(first), "estimator_histograms"])
    figures.main(["--quick", "--out", str(second), "estimator_histograms"])
    assert (first / "estimator_histograms.png").read_bytes() == (second / "estimator_histograms.png").read_bytes()
