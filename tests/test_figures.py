import json
import re
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from tinygrad_ste import compare
from tinygrad_ste.tools import figures


def test_every_figure_is_written_at_quick_settings(tmp_path, capsys):
    figures.main(["--quick", "--jobs", "1", "--out", str(tmp_path)])   # in this process (two: the next tests)
    written = sorted(p.stem for p in tmp_path.glob("*.png"))
    assert written == sorted(figures.FIGURES)
    for path in tmp_path.glob("*.png"):
        width, height = Image.open(path).size
        assert width > 300 and height > 200, f"{path.name} is {width}x{height}"
    assert capsys.readouterr().out.count("wrote ") == len(figures.FIGURES)
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    assert list(numbers) == list(figures.FIGURES)   # one entry per figure, in the registry's order
    for entry in numbers.values():
        statements = entry.pop(figures.STATEMENTS, {})
        assert all(isinstance(value, (int, float)) for value in entry.values())
        assert all(isinstance(record["holds"], bool) for record in statements.values())


def test_a_caption_statement_that_no_longer_holds_fails_the_command_after_writing(tmp_path, monkeypatch, capsys):
    def checked(quick):
        numbers = {"epochs": 3}
        figures.caption_says(numbers, "A is clearly lower than B", holds=True, difference=compare.paired(
            np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.7, 0.6])))
        figures.caption_says(numbers, "B never wins", holds=False, wins=2)
        return plt.figure(), numbers

    monkeypatch.setitem(figures.FIGURES, "checked", checked)
    figures.main(["--quick", "--out", str(tmp_path), "checked"])   # --quick: recorded, not enforced
    with pytest.raises(SystemExit, match="checked: B never wins"):
        figures.main(["--out", str(tmp_path), "checked"])
    assert (tmp_path / "checked.png").exists()
    recorded = json.loads((tmp_path / "numbers.json").read_text())["checked"][figures.STATEMENTS]
    assert recorded["B never wins"] == {"holds": False, "wins": 2}
    clear = recorded["A is clearly lower than B"]
    assert clear["holds"] and clear["difference"] == pytest.approx(-0.4) and (clear["items"], clear["seeds"]) == (3, 1)


def test_one_figure_by_name_and_a_clear_error_for_an_unknown_one(tmp_path, capsys):
    figures.main(["--quick", "--out", str(tmp_path), "staircase"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["numbers.json", "staircase.png"]
    with pytest.raises(SystemExit):
        figures.main(["--out", str(tmp_path), "no_such_figure"])
    assert "unknown figure(s) no_such_figure" in capsys.readouterr().err


def test_figures_sharing_trained_runs_are_made_in_one_process_and_the_numbers_do_not_depend_on_it(tmp_path, capsys):
    jobs = figures._jobs(list(figures.FIGURES))
    assert sorted(name for job in jobs for name in job) == sorted(figures.FIGURES)
    for group in figures.MADE_TOGETHER:
        assert any(set(group) <= set(job) for job in jobs)
    assert set(figures.LONGEST_FIRST) <= set(figures.FIGURES)
    assert all(name in job for name, job in zip(figures.LONGEST_FIRST, jobs))   # the longest jobs start first
    names = ["staircase", "vq_training", "vq_codebook_usage", "dvae_soft_hard_gap"]
    figures.main(["--quick", "--jobs", "1", "--out", str(tmp_path / "one"), *names])
    figures.main(["--quick", "--jobs", "2", "--out", str(tmp_path / "two"), *names])
    out = capsys.readouterr().out
    assert re.search(r"wrote \S+staircase\.png  \[\d/4\]  wall \d+\.\d s, CPU \d+\.\d s", out)
    assert "4 figure(s) in 1 process(es)" in out and "4 figure(s) in 2 process(es)" in out
    assert (tmp_path / "one" / "numbers.json").read_text() == (tmp_path / "two" / "numbers.json").read_text()


def test_figures_reproduce_exactly(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    figures.main(["--quick", "--out", str(first), "estimator_histograms"])
    figures.main(["--quick", "--out", str(second), "estimator_histograms"])
    assert (first / "estimator_histograms.png").read_bytes() == (second / "estimator_histograms.png").read_bytes()


REPOSITORY = Path(__file__).resolve().parents[1]
IMAGE = re.compile(r"!\[[^\]]*\]\(figures/(\w+)\.png\)")
# A number as printed: "1,000", "-19.72", "95.3%", or a fraction "1/16"; not a digit inside a word ("log2",
# "8x8"), after a decimal point or a hyphen ("64-128-10"), or an exponent ("sigma^2").
NUMBER = re.compile(r"(?<![\w.^/-])-?\d+(?:,\d{3})*(?:\.\d+)?(?:%|/\d+)?(?![\w/])")
NOT_COUNTED = re.compile(r"`[^`]*`|\b[Ll]essons? \d+|\bsections? \d+")   # code, and references to lessons


# Percentage points: "85.5% ± 1.3", "2.0 to 4.5 points" and "+0.7 ± 0.5 points" state 1.3, 2.0, 4.5, 0.7 and 0.5
# as percentages.
POINTS = re.compile(r"(?<=% ± )(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)(?= points)|(\d+(?:\.\d+)?)(?= to \d+(?:\.\d+)? points)"
                    r"|(\d+(?:\.\d+)?)(?= ± \d+(?:\.\d+)? points)")


def caption_numbers(caption):
    """The numbers a caption states, in order, as printed (percentage points written as percentages)."""
    caption = POINTS.sub(lambda match: match.group(0) + "%", NOT_COUNTED.sub(" ", caption))
    return NUMBER.findall(caption)


def printed_as(value, token):
    """Does ``value`` print as ``token`` at the token's precision?  A percentage is the value times 100, a
    fraction a/b is compared as a number, and a token without a sign may state a negative value's size
    (the sentence says which way: "0.0016 better")."""
    if "/" in token:
        numerator, denominator = token.split("/")
        return abs(float(numerator) / float(denominator) - value) < 1e-12
    digits = token.replace(",", "").rstrip("%")
    decimals = len(digits.partition(".")[2])
    value = 100 * value if token.endswith("%") else value
    return f"{value:.{decimals}f}" == digits or (not digits.startswith("-") and f"{-value:.{decimals}f}" == digits)


def test_printed_as_rounds_to_the_digits_shown():
    assert printed_as(0.02641, "0.0264") and printed_as(0.9526, "95.3%") and printed_as(1000, "1,000")
    assert printed_as(5.7e-16, "0") and printed_as(-19.72, "-19.72") and printed_as(-0.00156, "0.0016")
    assert printed_as(0.0625, "1/16") and not printed_as(19.72, "-19.72")
    assert not printed_as(0.0266, "0.0264") and not printed_as(0.95, "95.3%")
    assert caption_numbers("Lesson 3, section 7 (`tau=1`): 1,000 estimates of (z - 2)^2 with sigma^2, "
                           "tau = 0.5 to 1/16, -19.72 nats, 95.3%, 64-128-10, log2 K, 8x8.") == \
        ["1,000", "2", "0.5", "1/16", "-19.72", "95.3%", "64"]
    assert caption_numbers("85.5% ± 1.3, 2.0 to 4.5 points higher, a gap of 2.7 points, +0.7 ± 0.5 points") == \
        ["85.5%", "1.3%", "2.0%", "4.5%", "2.7%", "0.7%", "0.5%"]


def committed_numbers():
    """figures/numbers.json as committed (``git show HEAD:...``), or None outside a git checkout."""
    try:
        shown = subprocess.run(["git", "show", "HEAD:figures/numbers.json"], cwd=REPOSITORY, capture_output=True,
                               text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return json.loads(shown.stdout)


def caption_problems(name, caption, entry):
    """What in ``caption`` the figure's numbers ``entry`` do not support (an empty list: all of it).

    Each number the caption states (not counting `code`, "Lesson N" and "section N") must be a value
    of the entry, rounded to the digits the caption shows, a number its caption statements recorded
    as evidence, or a number written in one of its keys (settings such as "lambda=30" or "K=128")."""
    statements = entry.get(figures.STATEMENTS, {})
    values = [value for key, value in entry.items() if key != figures.STATEMENTS]
    values += [value for record in statements.values() for key, value in record.items() if key != "holds"]
    in_keys = {token.replace(",", "") for key in entry if key != figures.STATEMENTS for token in caption_numbers(key)}
    return [f"{name}: the caption says {token}, which is no value of figures/numbers.json[{name!r}] at that "
            f"precision, nor a setting in its keys" for token in caption_numbers(caption)
            if token.replace(",", "") not in in_keys and not any(printed_as(value, token) for value in values)]


def test_every_readme_caption_quotes_the_figures_numbers_file():
    """The caption of a figure is the paragraph just above its image in README.md; every number it states
    is one the committed run measured (see caption_problems).  A learner who regenerates the figures
    rewrites figures/numbers.json with numbers from another machine: the captions are checked against
    the committed file, so that never fails this test (the working file is accepted too, for a change
    not yet committed).  The statements a caption makes were checked by the figures command itself."""
    readme = (REPOSITORY / "README.md").read_text()
    working = json.loads((REPOSITORY / "figures" / "numbers.json").read_text())
    candidates = [numbers for numbers in (committed_numbers(), working) if numbers is not None]
    paragraphs = readme.split("\n\n")
    shown = []
    for before, paragraph in zip(paragraphs, paragraphs[1:]):
        image = IMAGE.fullmatch(paragraph.strip())
        if image is None:
            continue
        name = image.group(1)
        shown.append(name)
        assert any(name in numbers for numbers in candidates), \
            f"figures/{name}.png has no entry in figures/numbers.json: regenerate the figures"
        problems = [caption_problems(name, before, numbers[name]) +
                    [f"{name}: the run did not support the statement {sentence!r}"
                     for sentence in figures.failed_statements(numbers[name])]
                    for numbers in candidates if name in numbers]
        assert min(problems, key=len) == [], "\n".join(min(problems, key=len))
    assert sorted(shown) == sorted(set().union(*candidates)), \
        "every figure in numbers.json is shown, with its caption, in README.md"
