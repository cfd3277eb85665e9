"""The Playground's files: your own CSV data, settings saved and loaded as JSON, weights (.npz) and the
history (.csv) exported."""

import io
import logging
import os
import tempfile
import threading
import traceback

import panel as pn

from apps.widgets import DATA_LIMIT_MB, settings_card, upload_box
from lab import datasets

log = logging.getLogger("lab.apps")


def read_csv(name, content, label, test_ratio, seed):
    """The Split of an uploaded CSV; every message names the user's file, never a temporary one."""
    with tempfile.TemporaryDirectory(prefix="lab-upload-") as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(content)
        try:
            split = datasets.load_csv(path, label=label, test_ratio=test_ratio, seed=seed)
        except ValueError as err:
            raise ValueError(str(err).replace(folder + os.sep, "")) from None
    split.name = name
    return split


class Files:
    """The file widgets of one Playground and what they do to it (``page``: the Playground)."""

    def __init__(self, page):
        self.page = page
        wide = dict(sizing_mode="stretch_width")
        self.label_column = pn.widgets.TextInput(name="Label column", value="label", **wide)
        self.upload_note, self.upload = upload_box(".csv", DATA_LIMIT_MB, self.on_upload, page.messages,
                                                   "Your data")
        self.downloads = [
            pn.widgets.FileDownload(callback=self.weights_file, filename="lab-weights.npz",
                                    label="Export weights (.npz)", **wide),
            pn.widgets.FileDownload(callback=lambda: io.StringIO(page.live.history_csv()),
                                    filename="lab-history.csv", label="Export history (.csv)", **wide),
        ]

    def data_widgets(self):
        return [pn.pane.Markdown("**Your own data** (CSV with a header)"), self.label_column, self.upload_note,
                self.upload]

    def card(self):
        page = self.page
        return settings_card(page.config.to_json, self.load_settings, "lab-settings.json", page.messages,
                             *self.downloads)

    def on_upload(self, name, content):
        """Read the uploaded CSV in a thread (a 200 MB file takes seconds to parse, and the event loop
        serves every student of the class), then load it into the page on the document's own thread."""
        page = self.page
        if not content:
            raise ValueError(f"{name}: the file is empty")
        label = self.label_column.value.strip() or "label"
        ratio, seed = page.config.test_ratio, page.config.data_seed
        page.messages.show(f"Reading {name} ({len(content) / 1e6:.1f} MB)…", "info")
        doc = pn.state.curdoc

        def read():
            try:
                result = read_csv(name, content, label, ratio, seed)
            except ValueError as err:
                result = err
            except Exception as err:  # a bug must not leave the page waiting
                log.error("reading %s failed:\n%s", name, traceback.format_exc())
                result = ValueError(f"{name}: could not be read ({type(err).__name__}: {err})")
            try:
                doc.add_next_tick_callback(page.messages.guard(lambda: self.loaded(name, result)))
            except Exception:  # the tab was closed meanwhile
                pass

        threading.Thread(target=read, name="lab-upload", daemon=True).start()

    def loaded(self, name, result):
        page = self.page
        if isinstance(result, ValueError):
            page.messages.show(str(result), "danger")
            return
        page.upload = result
        page.added = None
        page.rebuild()
        if page.live is not None:
            page.messages.show(f"Loaded {name}: {len(result.y_train)} training and {len(result.y_test)} test "
                               f"rows, {result.n_features} features, {result.kind}.", "success")

    def load_settings(self, text):
        self.page.config.from_json(text)
        self.page.fill_optimizer_box()
        self.page.rebuild()
        self.page.messages.show("Loaded the settings from the file.", "success")

    def weights_file(self):
        buffer = io.BytesIO()
        self.page.live.model.save(buffer)
        buffer.seek(0)
        return buffer
