import json
import re
from pathlib import Path

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


REPOSITORY = Path(__file__).resolve().parents[1]
IMAGE = re.compile(r"!\[[^\]]*\]\(figures/(\w+)\.png\)")
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?%?")
NOT_COUNTED = re.compile(r"`[^`]*`|\b[Ll]essons? \d+|\bsections? \d+")   # code, and references to lessons


def caption_numbers(caption):
    """The numbers a caption states, in order, as printed ("1,000", "0.0264", "95.3%")."""
    return NUMBER.findall(NOT_COUNTED.sub(" ", caption))


def printed_as(value, token):
    """Does ``value`` print as ``token`` at the token's precision?  A percentage is the value times 100."""
    digits = token.replace(",", "").rstrip("%")
    decimals = len(digits.partition(".")[2])
    return f"{100 * value if token.endswith('%') else value:.{decimals}f}" == digits


def test_printed_as_rounds_to_the_digits_shown():
    assert printed_as(0.02641, "0.0264") and printed_as(0.9526, "95.3%") and printed_as(1000, "1,000")
    assert printed_as(5.7e-16, "0") and not printed_as(0.0266, "0.0264") and not printed_as(0.95, "95.3%")
    assert caption_numbers("Lesson 3, section 7 (`tau=1`): 1,000 estimates, tau = 0.5, 95.3%.") == ["1,000", "0.5", "95.3%"]


def test_every_readme_caption_quotes_the_figures_numbers_file():
    """The caption of a figure is the paragraph just above its image in README.md; its n-th number (not
    counting `code` and "Lesson N"/"section N") must print as the n-th value of that figure's entry in
    figures/numbers.json, rounded to the digits the caption shows."""
    readme = (REPOSITORY / "README.md").read_text()
    numbers = json.loads((REPOSITORY / "figures" / "numbers.json").read_text())
    paragraphs = readme.split("\n\n")
    shown = []
    for before, paragraph in zip(paragraphs, paragraphs[1:]):
        image = IMAGE.fullmatch(paragraph.strip())
        if image is None:
            continue
        name = image.group(1)
        shown.append(name)
        assert name in numbers, f"figures/{name}.png has no entry in figures/numbers.json: regenerate the figures"
        quoted, measured = caption_numbers(before), list(numbers[name].values())
        assert len(quoted) == len(measured), \
            f"{name}: the caption states {len(quoted)} numbers {quoted}, numbers.json holds {len(measured)}: " \
            f"{list(numbers[name])}"
        for token, (key, value) in zip(quoted, numbers[name].items()):
            assert printed_as(value, token), f"{name}: the caption says {token} where {key!r} is {value}"
    assert sorted(shown) == sorted(numbers), "every figure in numbers.json is shown, with its caption, in README.md"
