"""Bokeh figures for notebook users: a training history (``History.plot``), loss and accuracy per epoch,
train and validation, in the Playground's colours (train blue, validation orange). The one module of
lab/ that imports Bokeh (never Panel), and only when a plot is asked for."""

TRAIN, VALIDATION = "#1f77b4", "#ff7f0e"


def history_plot(history, width=420, height=300):
    from bokeh.layouts import row
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    if not history.get("loss"):
        raise ValueError("the history is empty: nothing was trained")
    epochs = list(range(1, len(history["loss"]) + 1))
    figures = []
    for metric, title in (("loss", "Loss"), ("accuracy", "Accuracy")):
        if metric not in history:
            continue
        fig = figure(width=width, height=height, title=f"{title} per epoch", x_axis_label="epoch",
                     y_axis_label=metric, name=f"history_{metric}", tools="pan,wheel_zoom,box_zoom,reset,save")
        for key, label, colour in ((metric, "train", TRAIN), ("val_" + metric, "validation", VALIDATION)):
            if key in history:
                source = ColumnDataSource({"epoch": epochs, "value": history[key]}, name=f"history_{key}")
                fig.line("epoch", "value", source=source, color=colour, line_width=2, legend_label=label)
        fig.add_tools(HoverTool(tooltips=[("epoch", "@epoch"), (metric, "@value{0.0000}")]))
        fig.legend.location = "top_right" if metric == "loss" else "bottom_right"
        figures.append(fig)
    return row(*figures, name="history_plot")
