"""The Playground's sidebar: one card per section of PlaygroundConfig, widgets built from its
declarations (lab.playground), plus the page's own buttons for data and layers."""

import panel as pn

from apps.widgets import param_widgets


def sidebar(page):
    c = page.config
    g = page.messages.guard
    regenerate = pn.widgets.Button(name="Regenerate data", sizing_mode="stretch_width")
    regenerate.on_click(g(lambda e: setattr(c, "data_seed", (c.data_seed + 1) % 100000)))
    data = pn.Card(*param_widgets(c, names=["dataset", "noise", "test_ratio", "n_points", "features"]),
                   regenerate, *page.files.data_widgets(), *page.points.widgets(), title="Data",
                   sizing_mode="stretch_width")
    network = pn.Card(*param_widgets(c, names=["hidden"]), pn.Row(page.add_layer, page.remove_layer),
                      *param_widgets(c, names=["activation", "output", "loss", "init", "seed", "dtype", "backend"]),
                      title="Network", sizing_mode="stretch_width")
    training = pn.Card(*param_widgets(c, names=["optimizer_name"]), page.optimizer_box,
                       *param_widgets(c, names=["schedule_name"]), page.schedule_box,
                       *param_widgets(c, names=["batch_size", "steps_per_second", "max_epochs"]),
                       title="Training", sizing_mode="stretch_width")
    regularization = pn.Card(*param_widgets(c.regularization, exclude=("keep_per_layer",)),
                             title="Regularization", collapsed=True, sizing_mode="stretch_width")
    page.fill_optimizer_box()
    return pn.Column(data, network, training, regularization, page.files.card(), sizing_mode="stretch_width")


def optimizer_widgets(config):
    """The selected optimizer's and schedule's own sliders."""
    sched = config.schedule
    return (param_widgets(config.optimizers[config.optimizer_name]),
            param_widgets(sched, exclude=("learning_rate",)))

