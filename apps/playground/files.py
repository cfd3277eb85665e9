"""The Playground's files: your own CSV data, settings saved and loaded as JSON, weights (.npz) and the
history (.csv) exported."""

import io
import os
import tempfile

import panel as pn

from apps.widgets import settings_card
from lab import datasets


class Files:
    """The file widgets of one Playground and what they do to it (``page``: the Playground)."""

    def __init__(self, page):
        self.page = page
        g = page.messages.guard
        wide = dict(sizing_mode="stretch_width")
        self.upload = pn.widgets.FileInput(accept=".csv", name="Upload CSV", **wide)
        self.label_column = pn.widgets.TextInput(name="Label column", value="label", **wide)
        # an empty file arrives as value None with a new file name: watch both, decide from what is there
        self.upload.param.watch(g(self.on_upload), ["value", "filename"])
        self.downloads = [
            pn.widgets.FileDownload(callback=self.weights_file, filename="lab-weights.npz",
                                    label="Export weights (.npz)", **wide),
            pn.widgets.FileDownload(callback=lambda: io.StringIO(page.live.history_csv()),
                                    filename="lab-history.csv", label="Export history (.csv)", **wide),
        ]

    def data_widgets(self):
        return [pn.pane.Markdown("**Your own data** (CSV with a header)"), self.label_column, self.upload]

    def card(self):
        page = self.page
        return settings_card(page.config.to_json, self.load_settings, "lab-settings.json", page.messages,
                             *self.downloads)

    def on_upload(self, *events):
        page = self.page
        if not self.upload.filename:
            return
        name = os.path.basename(self.upload.filename)
        content = self.upload.value
        if not content:
            raise ValueError(f"{name}: the file is empty")
        # saved under the user's own file name, so every message names their file, not a temporary one
        with tempfile.TemporaryDirectory(prefix="lab-upload-") as folder:
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(content)
            try:
                split = datasets.load_csv(path, label=self.label_column.value.strip() or "label",
                                          test_ratio=page.config.test_ratio, seed=page.config.data_seed)
            except ValueError as err:  # the loader names the path; the user knows the file by its name
                raise ValueError(str(err).replace(folder + os.sep, "")) from None
        split.name = name
        page.upload = split
        page.added = None
        page.rebuild()
        page.messages.show(f"Loaded {split.name}: {len(split.y_train)} training and {len(split.y_test)} test "
                           f"rows, {split.n_features} features, {split.kind}.", "success")

    def load_settings(self, text):
        self.page.config.from_json(text)
        self.page.fill_optimizer_box()
        self.page.rebuild()

    def weights_file(self):
        buffer = io.BytesIO()
        self.page.live.model.save(buffer)
        buffer.seek(0)
        return buffer
