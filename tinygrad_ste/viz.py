"""Pictures for the lessons and ``figures/``: the computation graph and the plots they share.

matplotlib is an optional dependency (the ``lessons`` extra), so it is imported here
and nowhere in the engine: ``import tinygrad_ste`` works without it.  Every function
draws into a new figure (or into ``ax`` when given) and returns the figure, so a
notebook shows it and ``tools/figures.py`` saves it.
"""
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullFormatter

from .tensor import topological_order

__all__ = ["RULE_COLOURS", "rule_colour", "draw_graph", "plot_staircase", "plot_histograms", "plot_estimates",
           "plot_curves", "plot_bias_variance", "show_images", "plot_code_usage", "plot_xy", "plot_bars",
           "plot_rounding_proxies", "plot_rate_distortion", "show_glimpses", "plot_accuracy_bars",
           "plot_variance_sweeps", "plot_architecture_trajectories",
           "plot_expert_classes", "plot_likelihood_and_variance"]

# One colour per backward rule, in every lesson and figure.  A curve's label is coloured by the
# first of these names it contains, in this order ("-" read as "_", so "straight-through"
# is "straight_through", which is the identity rule of a sample).
RULE_COLOURS = {
    "straight_through_gumbel": "#8c564b",
    "smooth_staircase": "#e377c2",
    "leave_one_out": "#17becf",
    "ema": "#ff9896",
    "reinforce": "#d62728",
    "reinmax": "#9467bd",
    "gumbel": "#ff7f0e",
    "rotation": "#bcbd22",
    "identity": "#1f77b4",
    "straight_through": "#1f77b4",
    "clipped": "#2ca02c",
    "zero": "#7f7f7f",
    "real weights": "#000000",   # no rule at all: the reference
}
_OTHER_COLOURS = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"]   # labels that name no rule


def rule_colour(label, fallback=0):
    """The colour of the backward rule named in ``label`` (see ``RULE_COLOURS``); labels that
    name no rule get the ``fallback``-th of a few dark colours no rule uses."""
    text = label.replace("-", "_")
    for rule, colour in RULE_COLOURS.items():
        if re.search(rf"\b{rule}\b", text):
            return colour
    return _OTHER_COLOURS[fallback % len(_OTHER_COLOURS)]


def _styles(labels):
    """(colour, line style) per label: the rule's colour; dashed, then dotted, when a rule repeats."""
    seen, styles = {}, []
    for i, label in enumerate(labels):
        colour = rule_colour(label, fallback=i)
        styles.append((colour, ["-", "--", ":", "-."][seen.get(colour, 0) % 4]))
        seen[colour] = seen.get(colour, 0) + 1
    return styles


# One colour per kind of graph node, reused by the legend.
_NODE_COLOURS = {"parameter": "#b7e4c7", "constant": "#e9ecef", "op": "#cfe2ff", "op with a chosen rule": "#ffd8a8"}


def draw_graph(output, names=None, ax=None):
    """Draw the computation graph that ``output.backward()`` would walk.

    Each op node shows the op's name and the backward rule recorded for it (its
    registered name, or "default" for an op's only gradient); ops whose rule was chosen
    instead of the op's default (by name or as a callable) are orange.  Leaves show their name (from ``names``, a dict
    ``{tensor: "x"}``) and shape; green leaves require grad.  Data flows top to bottom (a
    tall graph stays readable at notebook width, where a wide one would shrink).
    """
    names = names or {}
    if output.node is None:
        raise ValueError(f"draw_graph: the tensor (shape {output.shape}) was not made by a recorded op, "
                         "so it has no graph; did its inputs have requires_grad=True?")
    # Level of a tensor = longest path from it to the output, so every arrow points down.
    # The engine's own topological order (output first) lets one pass settle it.
    distance, order = {id(output): 0}, []
    for tensor in topological_order(output):
        order.append(tensor)
        for parent in tensor.node.parents:
            if parent.node is None and id(parent) not in distance:
                order.append(parent)
            distance[id(parent)] = max(distance.get(id(parent), 0), distance[id(tensor)] + 1)
    depth = max(distance.values())
    levels = {}
    for tensor in order:
        levels.setdefault(depth - distance[id(tensor)], []).append(tensor)

    position = {}   # (x, y): x across a level, y = minus the level, inputs on top
    for level, tensors in levels.items():
        for i, tensor in enumerate(tensors):
            position[id(tensor)] = (i - (len(tensors) - 1) / 2, -level)
    width = max(len(tensors) for tensors in levels.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(2.4 * width + 1.6, 0.95 * (depth + 1) + 0.9))

    boxes, edges = {}, []   # the node's text (its box), and (parent, child, how often) for the arrows
    for tensor in order:
        x, y = position[id(tensor)]
        if tensor.node is None:
            kind = "parameter" if tensor.requires_grad else "constant"
            label = names.get(tensor, kind)
            # A one-element constant (the 2 in x ** 2) is clearer shown by its value.
            label += f" = {tensor.item():g}" if tensor.numel() == 1 and tensor not in names else f"\nshape {tensor.shape}"
        else:
            rule = tensor.node.rule_name
            label = f"{tensor.node.function.name}\nbackward: {rule}\nshape {tensor.shape}"
            kind = "op" if tensor.node.rule is tensor.node.function.backward else "op with a chosen rule"
            if tensor in names:
                label = f"{names[tensor]} = " + label
            parents = [id(p) for p in tensor.node.parents]
            edges += [(parent, id(tensor), parents.count(parent)) for parent in set(parents)]   # x * x: one arrow
        boxes[id(tensor)] = ax.text(x, y, label, ha="center", va="center", fontsize=8.5, family="monospace",
                                    bbox=dict(boxstyle="round,pad=0.4", facecolor=_NODE_COLOURS[kind],
                                              edgecolor="#495057"))
    for parent, child, count in edges:
        # From box to box: the arrow is clipped at both boxes' edges, so its head stays visible.
        (px, py), (x, y) = position[parent], position[child]
        ax.annotate("", xy=(x, y), xytext=(px, py),
                    arrowprops=dict(arrowstyle="-|>", mutation_scale=12, color="#495057", lw=1.2, shrinkA=1,
                                    shrinkB=1, patchA=boxes[parent].get_bbox_patch(),
                                    patchB=boxes[child].get_bbox_patch()))
        if count > 1:   # labelled "×2"
            ax.text((x + px) / 2 + 0.08, (y + py) / 2, f"×{count}", ha="left", fontsize=8)

    ax.set_xlim(-width / 2 - 0.1, width / 2 + 0.1)
    ax.set_ylim(-depth - 0.45, 0.45)
    ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, edgecolor="#495057") for c in _NODE_COLOURS.values()]
    ax.legend(handles, list(_NODE_COLOURS), loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_title("Computation graph: data flows down,\nbackward() walks it from the bottom up", fontsize=10)
    return ax.figure


def plot_staircase(x, forward, gradients, stand_ins=None, title="round(x): one forward, several backward rules",
                   forward_label="forward: round(x)"):
    """Left: the forward of a hard op and the smooth stand-ins the rules pretend it is;
    right: the gradient each backward rule gives.

    ``x``: (N,) inputs, sorted; ``forward``: (N,) outputs; ``gradients``: dict
    ``{rule name: (N,) d output / d x}`` as computed by the engine; ``stand_ins``: dict
    ``{label: (N,) values}``, by default the ramp y = x of straight-through.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    left.plot(x, forward, color="black", lw=2, label=forward_label)
    stand_ins = stand_ins or {"identity: the ramp y = x": x}
    for (label, values), style in zip(stand_ins.items(), ["--", ":", "-."] * 4):
        left.plot(x, values, ls=style, color=rule_colour(label), label=label)
    left.set(title="Forward: a staircase", xlabel="x", ylabel="y")
    # Rules often agree (0 or 1) over whole stretches: wide pale lines under narrow dark
    # ones keep every curve visible without shifting any of them.
    widths = np.linspace(7, 2, len(gradients))
    for (rule, grad), width, style in zip(gradients.items(), widths, ["-", "--", "-", "-."] * 4):
        right.plot(x, grad, lw=width, ls=style, alpha=0.75, color=rule_colour(rule), label=f'backward="{rule}"')
    right.set(title="Backward: the dy/dx each rule uses", xlabel="x", ylabel="gradient dy/dx")
    right.set_ylim(-0.15, max(1.25, 1.1 * max(np.max(g) for g in gradients.values())))
    for ax in (left, right):   # below the axes, where they cover no curve
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_histograms(samples, reference=None, xlabel="estimate", title="Distribution of estimates", bins=40,
                    ax=None):
    """Overlaid histograms, one per entry of ``samples`` (a dict ``{label: (n,) array}``).

    ``reference``: a value (say, the exact gradient) drawn as a vertical line.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    values = np.concatenate([np.ravel(v) for v in samples.values()])
    edges = np.histogram_bin_edges(values, bins=bins)
    for label, v in samples.items():
        ax.hist(np.ravel(v), bins=edges, alpha=0.5, label=label)
    if reference is not None:
        ax.axvline(reference, color="black", lw=2, ls="--", label=f"exact = {reference:.4g}")
    ax.set(title=title, xlabel=xlabel, ylabel="count")
    ax.legend(fontsize=8)
    return ax.figure


def plot_estimates(comparison, index, columns=4):
    """One histogram per estimator of a :class:`~tinygrad_ste.estimators.Comparison`: the
    estimates of the gradient entry ``index`` (a tuple into the logits), the exact value
    dashed and the estimates' mean solid.

    Shared bins across panels, so widths compare at a glance: a narrow histogram is a
    low-variance estimator; a mean away from the dashed line is a biased one.
    """
    rows = list(comparison)
    index = tuple(int(i) for i in index)
    exact = comparison.exact[index]
    n_rows = -(-len(rows) // columns)
    fig, axes = plt.subplots(n_rows, columns, figsize=(3.2 * columns, 2.7 * n_rows + 0.5), squeeze=False)
    for ax, row in zip(axes.flat, rows):
        values = row.estimates[(slice(None),) + index]
        # Each panel its own range, so no estimator's tail is piled into edge bins made for another.
        edges = np.histogram_bin_edges(np.append(values, exact), bins=30)
        ax.hist(values, bins=edges, color=rule_colour(row.label), label="estimates")
        ax.axvline(exact, color="black", ls="--", lw=2, label="exact")
        ax.axvline(values.mean(), color="black", lw=2, label="mean estimate")
        ax.set_title(row.label, fontsize=9)
        ax.set_xlabel(f"d E[cost] / d logits{list(index)}", fontsize=8)
        ax.set_ylabel("count", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(rows):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle(f"{len(rows[0].estimates)} independent estimates of one gradient entry per estimator "
                 "(each panel has its own x range)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plot_bias_variance(x, bias, variance, xlabel, title, noise_floor=None):
    """Bias (left) and variance (right) of several estimators against a swept setting ``x``.

    ``bias``, ``variance``: ``{label: (len(x),) array}``; ``noise_floor``: optional
    ``{label: (len(x),) array}`` of the bias an unbiased estimator shows by chance,
    drawn dotted in the same colour.  Both axes are logarithmic.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    for (label, values), (colour, style) in zip(bias.items(), _styles(bias)):
        left.plot(x, values, marker="o", ms=4, color=colour, ls=style, label=label)
        if noise_floor and label in noise_floor:
            left.plot(x, noise_floor[label], ls=":", color=colour)
    plot_curves(x, variance, xlabel, "variance: mean |estimate - mean|^2", "Variance", logx=True, logy=True, ax=right,
                legend=False)
    left.set(title="Bias" + (" (dotted: noise floor, the bias an unbiased estimator shows by chance)"
                             if noise_floor else ""), xlabel=xlabel, ylabel="bias: |mean estimate - exact|",
             xscale="log", yscale="log")
    left.title.set_fontsize(9 if noise_floor else 12)
    _plain_log_ticks(left)
    left.grid(alpha=0.3)
    fig.suptitle(title)
    handles, labels = left.get_legend_handles_labels()   # one legend for both panels, below them
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08 * (1 + (len(labels) - 1) // 4), 1, 1))
    return fig


def plot_curves(x, curves, xlabel, ylabel, title, logx=False, logy=False, ax=None, markers=True, reference=None,
                legend=True):
    """Several labelled curves over a shared x: ``curves`` is ``{label: (len(x),) array}``.

    Serves training curves (x = step) and sweeps (x = temperature, number of samples).
    Each curve takes the colour of the backward rule its label names (``RULE_COLOURS``); a
    rule met again is drawn dashed.  The legend sits right of the axes, covering no data.
    ``reference``: an optional ``(label, value)`` drawn as a dashed horizontal line (a bound, a target).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 4))
    for (label, y), (colour, style) in zip(curves.items(), _styles(curves)):
        ax.plot(x, y, marker="o" if markers else None, ms=4, color=colour, ls=style, label=label)
    if reference is not None:
        ax.axhline(reference[1], color="black", ls="--", lw=1.5, label=reference[0])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _plain_log_ticks(ax)
    if not logx and np.issubdtype(np.asarray(x).dtype, np.integer):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs and steps: no "2.5"
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        ax.figure.tight_layout()
    return ax.figure


def _plain_log_ticks(ax):
    """Ticks at 1, 2, 5 x 10^k labelled 0.1, 0.2, 0.5 (not 10^-1, 2x10^-1) on logarithmic axes;
    on an axis spanning less than a factor of 10 (e.g. test errors from 0.01 to 0.05), which
    1, 2, 5 would label only once or twice, about ten evenly spaced round values (0.01, 0.015,
    0.02, ...), so that a value quoted in the text can be read off."""
    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale == "log":
            low, high = sorted(axis.get_view_interval())
            narrow = 0 < low and high < 10 * low
            axis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 2.5, 5, 10]) if narrow
                                   else LogLocator(subs=(1, 2, 5)))
            axis.set_major_formatter(FormatStrFormatter("%g"))
            axis.set_minor_formatter(NullFormatter())


def show_images(rows, title, image_shape=(8, 8), fig=None):
    """A grid of grayscale images: one row per entry of ``rows`` (``{label: (n, H*W) array}``).

    Used for originals next to reconstructions, or samples; every row shows the same number of
    images.  ``fig``: a figure or subfigure to draw into (None: a new figure of its own size).
    """
    labels = list(rows)
    count = len(rows[labels[0]])
    own = fig is None
    if own:
        fig = plt.figure(figsize=(0.9 * count + 1.2, 1.0 * len(labels) + 0.6))
    axes = fig.subplots(len(labels), count, squeeze=False)
    for r, label in enumerate(labels):
        for c in range(count):
            ax = axes[r, c]
            ax.imshow(np.reshape(rows[label][c], image_shape), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    if own:
        fig.tight_layout()
    return fig


def plot_code_usage(counts, title="How often each code is chosen", ax=None):
    """Bar charts of code usage: ``counts`` is ``{label: (K,) count of each code}``, sorted descending.

    A flat profile means the codebook is used evenly; a long run of zeros shows dead codes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(counts)
    for i, ((label, count), (colour, style)) in enumerate(zip(counts.items(), _styles(counts))):
        count = np.sort(np.asarray(count))[::-1]
        dead = int((count == 0).sum())
        ax.bar(np.arange(len(count)) + i * width, count, width=width, color=colour, alpha=1.0 if style == "-" else 0.45,
               label=f"{label} ({dead} unused)")   # the same rule again: paler
    ax.set(title=title, xlabel="code, most used first", ylabel="times chosen")
    ax.legend(loc="upper right")   # the bars fall to the right, so the corner is empty
    return ax.figure


def plot_xy(series, xlabel, ylabel, title, logy=False, dashed=(), ax=None):
    """Curves that each have their own x: ``series`` is ``{label: (xs, ys)}`` (say, error against
    bits per image for several models).  Labels in ``dashed`` are drawn dashed (bounds, references)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", ms=5, ls="--" if label in dashed else "-", label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
        _plain_log_ticks(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax.figure


def plot_bars(values, ylabel, title, fmt="{:.3g}", ylim=None, ax=None):
    """One labelled bar per entry of ``values`` (``{label: number}``), its value written on top."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    labels = list(values)
    bars = ax.bar(range(len(labels)), [values[label] for label in labels], color="#4c72b0")
    ax.bar_label(bars, labels=[fmt.format(values[label]) for label in labels], fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right", fontsize=8)
    ax.set(title=title, ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3, axis="y")
    return ax.figure

# ------------------------------------------------------------------ learned compression (lesson 7)


def plot_rounding_proxies(bottleneck, y, rng, draws=64):
    """Three panels on a one-channel :class:`~tinygrad_ste.entropy.EntropyBottleneck` over inputs ``y`` (N,):

    what the decoder receives (the rounding staircase, one noisy draw y + u, the ramp that
    straight-through differentiates), the rate -log2 P it is charged (of round(y), of one
    noisy draw, and its mean over ``draws`` draws), and that rate's gradient dbits/dy as the
    engine computes it for each proxy.  ``rng`` draws the noise.
    """
    from .entropy import rate_bits
    from .discrete import round as round_
    from .tensor import Tensor

    def rate_and_gradient(values_fn):
        y_tensor = Tensor(y[:, None], requires_grad=True)
        likelihoods = bottleneck.likelihood(values_fn(y_tensor))
        rate_bits(likelihoods).backward()
        return -np.log2(likelihoods.data[:, 0]), y_tensor.grad[:, 0]

    noisy = [rate_and_gradient(lambda t: t + rng.uniform(-0.5, 0.5, t.shape)) for _ in range(draws)]
    round_rate, round_gradient = rate_and_gradient(lambda t: round_(t, backward="identity"))
    one_draw = y + rng.uniform(-0.5, 0.5, y.shape)
    fig, (forward, rate, gradient) = plt.subplots(1, 3, figsize=(15, 4))
    forward.plot(y, np.round(y), color="black", lw=2, label="round(y): the decoder's input at test time")
    forward.scatter(y, one_draw, s=4, color="tab:orange", label='"noise": y + u, one draw')
    forward.plot(y, y, ls="--", color="tab:blue", label='straight-through ("round", "mixed"): backward sees y')
    forward.set(title="What the decoder receives", xlabel="y", ylabel="y_hat")
    forward.legend(fontsize=8)
    rate.plot(y, round_rate, color="black", lw=2, label='-log2 P(round(y)): "round" and test time')
    rate.scatter(y, noisy[0][0], s=4, color="tab:orange", label='-log2 p(y + u), one draw ("noise", "mixed")')
    rate.plot(y, np.mean([r for r, _ in noisy], axis=0), color="tab:red", label=f"its mean over {draws} draws")
    rate.set(title="The rate it is charged (bits)", xlabel="y", ylabel="bits")
    rate.legend(fontsize=8)
    gradient.plot(y, round_gradient, color="black", lw=2, label='"round": straight-through')
    gradient.scatter(y, noisy[0][1], s=4, color="tab:orange", label='"noise", "mixed": one draw')
    gradient.plot(y, np.mean([g for _, g in noisy], axis=0), color="tab:red", label=f"mean over {draws} draws")
    gradient.axhline(0, color="grey", lw=0.8)
    gradient.set(title="Gradient of the rate, d bits / dy", xlabel="y", ylabel="d bits / dy")
    gradient.legend(fontsize=8)
    fig.suptitle("Three stand-ins for rounding in training: what the decoder sees, the rate, its gradient")
    fig.tight_layout()
    return fig


def plot_rate_distortion(curves, title, ax=None):
    """Rate-distortion curves: ``curves`` is ``{label: (bits per image (n,), test MSE (n,))}``,
    each drawn as markers joined in order of bits.  Lower and further left is better."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5))
    for (label, (bits, mse)), marker in zip(curves.items(), ["o", "s", "^", "D", "v", "P", "X", "*"] * 2):
        order = np.argsort(bits)
        ax.plot(np.asarray(bits)[order], np.asarray(mse)[order], marker=marker, ms=5, label=label)
    ax.set(title=title, xlabel="bits per image", ylabel="test MSE per pixel")
    ax.set_yscale("log")
    _plain_log_ticks(ax)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax.figure


# ------------------------------------------------------------------ hard attention (lesson 8)


def show_glimpses(canvases, thumbnails, chosen, digit_cells, predictions, labels, grid=2,
                  title="Where the model looked"):
    """Cluttered canvases with the cell a glimpse model chose: one column per canvas.

    Top row: the thumbnail the chooser sees (its darkest block drawn black).  Middle: the
    canvas, the chosen cell framed in green when it holds the digit and in red when it does
    not.  Bottom: the chosen cell at full resolution, titled with the predicted class (and the
    true one when they differ).
    ``canvases`` (n, (8 grid)^2), ``thumbnails`` (n, T), ``chosen``, ``digit_cells``,
    ``predictions``, ``labels``: (n,) integers.
    """
    count, side, thumb_side = len(canvases), 8 * grid, int(round(np.sqrt(np.shape(thumbnails)[1])))
    fig, axes = plt.subplots(3, count, figsize=(1.3 * count + 1.2, 4.4), squeeze=False)
    for c in range(count):
        canvas = np.reshape(canvases[c], (side, side))
        row, column = divmod(int(chosen[c]), grid)
        glimpse = canvas[8 * row:8 * row + 8, 8 * column:8 * column + 8]
        hit = chosen[c] == digit_cells[c]
        axes[0, c].imshow(np.reshape(thumbnails[c], (thumb_side, thumb_side)), cmap="gray_r", vmin=0,
                          vmax=np.max(thumbnails))   # block means are paler than pixels: use the full grey range
        axes[1, c].imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
        axes[1, c].add_patch(plt.Rectangle((8 * column - 0.5, 8 * row - 0.5), 8, 8, fill=False, lw=2.5,
                                           edgecolor="#2b9348" if hit else "#d62828"))
        axes[2, c].imshow(glimpse, cmap="gray_r", vmin=0, vmax=1)
        right = predictions[c] == labels[c]
        axes[2, c].set_title(f"says {predictions[c]}" + ("" if right else f" (is {labels[c]})"), fontsize=9,
                             color="black" if right else "#d62828")
        for ax in axes[:, c]:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, label in zip(axes[:, 0], ("thumbnail", "canvas and\nchosen cell", "glimpse")):
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_bars(rows, references=None, title="Test accuracy", ylabel="test accuracy", ax=None):
    """Grouped bars with error bars: ``rows`` is ``{label: {bar name: (mean, sd)}}``.

    One group per label (say, per estimator), one bar per bar name (say, "hard choice" and
    "choice as trained"), the sd as an error bar.  ``references``: ``{label: value}`` drawn
    as horizontal lines of different dashes (baselines a model should beat, a ceiling it cannot),
    each labelled right of the axes, where labels of close values are moved apart.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    labels = list(rows)
    bar_names = list(dict.fromkeys(name for bars in rows.values() for name in bars))
    width = 0.8 / len(bar_names)
    for b, name in enumerate(bar_names):
        offset = (b - (len(bar_names) - 1) / 2) * width
        positions = [i + offset for i, label in enumerate(labels) if name in rows[label]]
        means, sds = zip(*(rows[label][name] for label in labels if name in rows[label]))
        ax.bar(positions, means, width=width, yerr=sds, capsize=3, label=name, alpha=1.0 if b == 0 else 0.55)
    # Each reference is labelled at the right end of its line; labels of close values are moved apart
    # (with a thin leader to their line), so two references a point apart stay readable.
    styles = ["--", ":", "-.", (0, (6, 2))]
    label_heights = []
    for i, (label, value) in enumerate(sorted((references or {}).items(), key=lambda item: item[1])):
        colour, style = plt.cm.Dark2.colors[i % 8], styles[i % len(styles)]
        ax.axhline(value, color=colour, ls=style, lw=1.5)
        height = max(value, label_heights[-1] + 0.06) if label_heights else value
        label_heights.append(height)
        ax.annotate(f"{label}: {value:.1%}", xy=(1, value), xycoords=("axes fraction", "data"), xytext=(1.02, height),
                    textcoords=("axes fraction", "data"), va="center", fontsize=8, color=colour,
                    arrowprops=dict(arrowstyle="-", color=colour, lw=0.8))
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=9)
    ax.set(title=title, ylabel=ylabel, ylim=(0, 1))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    ax.grid(alpha=0.3, axis="y")
    return ax.figure
# What each swept parameter of estimators.normal_variance_sweep is called on an axis and in a panel's title.
_SWEPT_NAMES = {"mean": ("mean of z", "against the mean"), "sigma": ("sigma", "against sigma"),
                "n_samples": ("draws per estimate", "against the number of draws")}


def plot_variance_sweeps(sweeps, variances, title):
    """One panel per sweep of :func:`~tinygrad_ste.estimators.normal_variance_sweep`: each estimator's
    variance against the swept parameter, the fixed ones in the axis label.

    ``sweeps`` and ``variances`` are that function's argument and result.  Log scales, but a
    linear axis for the mean (which crosses 0); the log x axes are ticked at the swept values.
    """
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5 * len(sweeps), 4), squeeze=False)
    labels = list(dict.fromkeys(label for _, label in variances))
    for ax, (swept, (values, fixed)) in zip(axes[0], sweeps.items()):
        held = ", ".join(f"{value:g} draws" if name == "n_samples" else f"{name} = {value:g}"
                         for name, value in fixed.items())
        axis_name, panel_title = _SWEPT_NAMES[swept]
        plot_curves(values, {label: variances[swept, label][0] for label in labels}, f"{axis_name} ({held})",
                    "variance of the gradient estimate", panel_title, logx=swept != "mean", logy=True, ax=ax)
        if swept != "mean":
            ax.set_xticks(values, [f"{value:g}" for value in values])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_architecture_trajectories(trajectories, edges, operations, title, steps_per_record=1):
    """How the architecture weights move during a search: one panel per (search, edge).

    ``trajectories``: ``{search label: (records, edges, operations) array}`` of softmax(alpha),
    recorded every ``steps_per_record`` steps; each panel draws one line per operation.
    """
    fig, axes = plt.subplots(len(trajectories), len(edges), figsize=(3.4 * len(edges), 2.4 * len(trajectories)),
                             sharex=True, sharey=True, squeeze=False)
    for row, (label, trajectory) in zip(axes, trajectories.items()):
        steps = np.arange(len(trajectory)) * steps_per_record
        for e, ax in enumerate(row):
            for k, operation in enumerate(operations):
                ax.plot(steps, trajectory[:, e, k], label=operation)
            ax.set_title(f"{label}: edge {edges[e]}", fontsize=9)
            ax.set_ylim(0, 1)
    for ax in axes[-1]:
        ax.set_xlabel("search step")
    for ax in axes[:, 0]:
        ax.set_ylabel("softmax(alpha)")
    axes[0, -1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_expert_classes(classes_per_expert, title, ax=None):
    """Which digits each expert got: ``classes_per_expert`` (experts, classes) counts as an image,
    each column (digit class) normalised to the share of that digit's images each expert got."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.6 * len(classes_per_expert) + 1.5))
    counts = np.asarray(classes_per_expert, dtype=float)
    share = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1)
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set(xticks=range(counts.shape[1]), yticks=range(len(counts)), xlabel="digit",
           ylabel="expert", title=title)
    ax.figure.colorbar(image, ax=ax, label="share of the digit's test images")
    return ax.figure


def plot_likelihood_and_variance(log_likelihoods, variances, title):
    """The discrete-VAE benchmark of lesson 12: two panels of horizontal bars, one bar per estimator.

    ``log_likelihoods`` and ``variances``: ``{estimator label: value}`` (say, means over seeds) -- the
    test log-likelihood estimate in nats per image (left, its axis zoomed to the bars) and the
    variance of the gradient reaching the encoder's logits (right, log scale).
    """
    labels = list(log_likelihoods)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    values = np.array([log_likelihoods[label] for label in labels])
    floor = values.min() - 0.3   # the bars start here, so that a longer bar is a higher likelihood
    left.barh(labels, values - floor, left=floor, color="tab:blue")
    left.set_xlim(floor, values.max() + 0.1)
    left.set_xlabel("test log-likelihood estimate (nats per image, higher is better)")
    right.barh(labels, [variances[label] for label in labels], color="tab:orange")
    right.set_xscale("log")
    right.set_xlabel("gradient variance at the logits, end of training (log scale)")
    right.set_yticks(range(len(labels)), [""] * len(labels))
    fig.suptitle(title)
    fig.tight_layout()
    return fig
