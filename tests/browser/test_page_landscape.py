"""The loss-landscape page in a real browser: renders a surface and updates it while training."""

import math
import time

from conftest import ROOT, current_url, model_data, wait_for_app, wait_until


def _info(page):
    return page.evaluate("() => Bokeh.documents[0].get_model_by_name('landscape_info').text")


def test_landscape_renders_and_updates_while_training(server, page, console):
    page.goto(server.url + "?page=landscape")
    wait_for_app(page, "landscape_info")
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('landscape_info').text.startsWith('Surface')",
                           timeout=120000)
    assert "epoch 0" in _info(page)
    image = model_data(page, "landscape_grid", "image")[0]
    assert len(image) == 41 * 41 and all(math.isfinite(v) for v in image) and len(set(image)) > 100
    page.get_by_role("button", name="▶ Train").click()
    assert wait_until(lambda: "epoch 0:" not in _info(page), 120), _info(page)
    assert len(model_data(page, "landscape_path", "x")) > 2
    assert model_data(page, "landscape_grid", "image")[0] != image
    page.get_by_label("Directions").select_option("pca")
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('landscape_info').text.includes('PCA')",
                           timeout=120000)
    time.sleep(1.0)
    page.screenshot(path=str(ROOT / "docs" / "landscape.png"))
    assert console == []


def test_playground_link_opens_the_same_run(server, page, console):
    page.goto(server.url + "?page=landscape&dataset=circle&hidden=3&optimizer_name=adam&opt.learning_rate=0.01")
    wait_for_app(page, "landscape_info")
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('landscape_info').text.startsWith('Surface')",
                           timeout=120000)
    assert page.get_by_label("Run").input_value() == "(from the playground link)"
    assert console == []


def test_surface_settings_live_in_the_url(server, page, console):
    page.goto(server.url + "?page=landscape&directions=pca&span=0.5&resolution=21&every=2")
    wait_for_app(page, "landscape_info")
    assert page.get_by_label("Directions").input_value() == "pca"
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('landscape_info').text.includes('a few epochs')",
                           timeout=120000)
    page.get_by_role("button", name="▶ Train").click()  # PCA needs a trajectory: it appears after training
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('landscape_info').text.includes('explained')",
                           timeout=120000)
    assert len(model_data(page, "landscape_grid", "image")[0]) == 21 * 21
    page.get_by_label("Normalization").select_option("layer")
    assert wait_until(lambda: "normalization=layer" in current_url(page)), current_url(page)
    assert "span=0.5" in current_url(page)
    assert console == []
