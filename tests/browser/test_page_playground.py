"""The playground in a real browser: loads clean, learns XOR live, shows the chosen optimizer's sliders,
reports divergence, restores a configuration from the URL, stops training when the tab closes."""

import time

from conftest import ARTIFACTS, ROOT, current_url, model_data, wait_for_app, wait_until

XOR = "?page=playground&dataset=xor&hidden=8,8&activation=tanh&opt.learning_rate=0.1"


def _html_text(page, name):
    return page.evaluate("(n) => { const m = Bokeh.documents[0].get_model_by_name(n); return m ? m.text : null }",
                         name)


def test_page_loads_with_navigation_and_no_console_errors(server, page, console):
    page.goto(server.url)
    wait_for_app(page)
    for title in ("Playground", "Optimizer race", "Loss landscape"):
        assert page.get_by_role("link", name=title, exact=True).is_visible()
    assert "epoch 0" in _html_text(page, "status")
    image = model_data(page, "boundary_image", "image")[0]  # 64 x 64, flattened in transit
    assert len(image) == 64 * 64 and len(set(image)) > 100  # a real heatmap, not a placeholder
    assert len(model_data(page, "train_points", "x1")) == 250
    time.sleep(1.0)
    assert console == []


def test_play_learns_xor_and_moves_the_boundary(server, page, console):
    page.goto(server.url + XOR)
    wait_for_app(page)
    before = model_data(page, "boundary_image", "image")
    page.get_by_role("button", name="▶ Play").click()

    def learned():
        losses = model_data(page, "loss_curve", "train") or []
        return len(losses) > 5 and losses[-1] < 0.5 * losses[0]
    assert wait_until(learned, 120), model_data(page, "loss_curve", "train")
    after = model_data(page, "boundary_image", "image")
    assert after != before
    # frames per second as the browser receives them (quoted in docs; not a timed assertion)
    count = "() => Number(Bokeh.documents[0].get_model_by_name('frame_counter').data.frame[0])"
    start_frames, t0 = page.evaluate(count), time.time()
    time.sleep(3.0)
    fps = (page.evaluate(count) - start_frames) / (time.time() - t0)
    (ARTIFACTS / "playground_fps.txt").write_text(f"{fps:.1f} frames/s\n")
    print(f"playground: {fps:.1f} frames per second received by the browser")
    assert fps > 0
    time.sleep(4.0)
    page.screenshot(path=str(ROOT / "docs" / "playground.png"), full_page=False)
    assert console == []


def test_switching_optimizer_shows_its_sliders(server, page, console):
    page.goto(server.url + "?page=playground")
    wait_for_app(page)
    assert page.get_by_text("Beta1").count() == 0
    page.get_by_label("Optimizer name").select_option("adam")
    page.get_by_text("Beta1").first.wait_for(timeout=60000)
    assert page.get_by_text("Beta2").first.is_visible()
    page.get_by_label("Optimizer name").select_option("rmsprop")
    page.get_by_text("Decay", exact=False).first.wait_for(timeout=60000)
    assert page.get_by_text("Beta1").count() == 0
    assert "optimizer_name=rmsprop" in current_url(page)
    assert console == []


def test_huge_learning_rate_ends_in_a_divergence_message(server, page, console):
    page.goto(server.url + "?page=playground&dataset=spiral&hidden=8,8&optimizer_name=sgd"
              "&opt.learning_rate=10&steps_per_second=1000")
    wait_for_app(page)
    page.get_by_role("button", name="▶ Play").click()
    page.get_by_text("Training diverged").first.wait_for(timeout=60000)
    assert page.get_by_role("button", name="▶ Play").is_visible()  # stopped itself, page still usable
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => !document.body.innerText.includes('Training diverged')", timeout=60000)
    assert console == []


def test_url_restores_a_configuration(server, page, console):
    page.goto(server.url + "?page=playground&dataset=spiral&hidden=6,5,4&optimizer_name=adam&opt.beta1=0.8"
              "&features=x1,x2,sin(x1)&reg.l2=0.01&batch_size=17")
    wait_for_app(page)
    assert page.get_by_label("Dataset").input_value() == "spiral"
    assert page.get_by_label("Hidden").input_value() == "6,5,4"
    assert page.get_by_label("Optimizer name").input_value() == "adam"
    page.get_by_text("Beta1").first.wait_for()
    assert page.get_by_label("Batch size").input_value() == "17"
    units = model_data(page, "network_units", "x")
    assert len(units) == 3 + 6 + 5 + 4 + 1  # three input features, three hidden layers, one output
    assert console == []


def test_closing_the_tab_stops_training_on_the_server(server, browser):
    page = browser.new_page()
    page.goto(server.url + XOR)
    wait_for_app(page)
    page.get_by_role("button", name="▶ Play").click()
    assert wait_until(lambda: len(model_data(page, "loss_curve", "train") or []) > 2)  # it is training
    marker = len(server.output())
    page.close()
    assert wait_until(lambda: "stopped 1 run(s), threads alive: 0" in server.output()[marker:], 120)


def _newest(page, name, column):
    """The sizes of one column's entries (arrays) or the entries themselves, from the newest such model."""
    values = model_data(page, name, column)
    return None if values is None else [len(v) if isinstance(v, list) else v for v in values]


def test_compare_and_reset_rebuild_every_view(server, page, console):
    page.goto(server.url + XOR)
    wait_for_app(page)
    page.get_by_role("button", name="Compare (same init)").click()
    # the compared run's boundary is drawn (64 x 64 values) and both runs train on play
    assert wait_until(lambda: _newest(page, "boundary_image_compared", "image") == [64 * 64])
    page.get_by_role("button", name="▶ Play").click()
    assert wait_until(lambda: len(_newest(page, "compare_curve", "train") or []) > 3)
    assert wait_until(lambda: len(_newest(page, "loss_curve", "train") or []) > 3)
    # every neuron of the rebuilt diagram has its heatmap: 2 inputs + 8 + 8 + 1 output
    assert _newest(page, "network_units", "image") == [16 * 16] * 19
    page.get_by_role("button", name="❚❚ Pause").click()
    page.get_by_role("button", name="Reset").click()
    assert wait_until(lambda: _newest(page, "network_units", "image") == [16 * 16] * 19
                 and len(_newest(page, "loss_curve", "train") or []) == 1)  # epoch 0 only
    assert _newest(page, "boundary_image_compared", "image") in (None, [64 * 64])
    time.sleep(1.0)
    page.screenshot(path=str(ARTIFACTS / "playground_after_reset.png"))
    assert console == []  # a view that failed to build shows up here as a page error


def test_uploads_that_fail_say_so_and_name_the_users_file(server, page, console, tmp_path):
    page.goto(server.url + "?page=playground")
    wait_for_app(page)
    upload = page.locator("input[type=file][accept='.csv']")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    upload.set_input_files(str(empty))
    page.get_by_text("empty.csv: the file is empty").first.wait_for(timeout=60000)
    bad = tmp_path / "my data.csv"
    bad.write_text("x1,x2,label\n0.1,0.2,1\n0.3,oops,0\n")
    upload.set_input_files(str(bad))
    page.get_by_text("my data.csv: line 3").first.wait_for(timeout=60000)
    assert page.get_by_text("/tmp").count() == 0
    good = tmp_path / "good.csv"
    good.write_text("x1,x2,label\n" + "".join(f"{i / 10},{-i / 10},{i % 2}\n" for i in range(40)))
    upload.set_input_files(str(good))
    page.get_by_text("Loaded good.csv").first.wait_for(timeout=60000)  # the session kept working
    assert console == []
