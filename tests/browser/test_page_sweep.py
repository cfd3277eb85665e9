"""The Sweep page in Chromium: a small sweep fills both heatmaps, a click shows a cell's loss curve and its
link, a double click opens that run in the Playground; and on a Dask cluster this test starts, Stop and
closing the tab leave no task on the scheduler."""


import pytest

from tests.browser.conftest import ARTIFACTS, Server, current_url, message, model_data, wait_for_app, wait_until

SMALL = ("?page=sweep&dataset=xor&n_points=100&hidden=4&epochs=20&seeds=1&lr_count=3&lr_min=0.01&lr_max=1"
         "&values_a=0,0.9&values_b=0.9,0.99")

# client coordinates of data point (x, y) in the newest figure named `name` (its plot view's own scales)
CELL_AT = """([name, x, y]) => {
    let found = null;
    const walk = (v) => {
        if (!v) return;
        if (v.model && v.model.name === name && v.frame) found = v;
        for (const c of (v.child_views || [])) walk(c);
    };
    for (const v of (Bokeh.index.values ? Bokeh.index.values() : Object.values(Bokeh.index))) walk(v);
    if (!found) return null;
    const r = found.el.getBoundingClientRect();
    return [r.left + found.frame.x_scale.compute(x), r.top + found.frame.y_scale.compute(y)];
}"""


def status(page):
    return model_data(page, "sweep_status") or ""


def test_a_small_sweep_fills_the_heatmaps_and_a_cell_opens_in_the_playground(server, page, console):
    page.goto(server.url + SMALL)
    wait_for_app(page, "sweep_status")
    assert wait_until(lambda: "12 runs" in status(page), 60), status(page)
    assert model_data(page, "sweep_cells_a", "label") == [""] * 6  # every cell waits
    page.get_by_role("button", name="▶ Start sweep").click()
    assert wait_until(lambda: "12 of 12" in status(page), 240), status(page)
    for k in "ab":
        labels = model_data(page, f"sweep_cells_{k}", "label")
        values = model_data(page, f"sweep_cells_{k}", "value")
        assert len(labels) == 6 and all(labels), labels  # a number, ✕ (diverged) or — in every cell
        assert any(v is not None and v == v for v in values), values
    assert "Dask dashboard" in (model_data(page, "sweep_dashboard") or "")
    assert wait_until(lambda: page.get_by_role("button", name="▶ Start sweep").is_visible(), 30)  # done: Start again
    page.screenshot(path=str(ARTIFACTS / "sweep.png"), full_page=True)

    # a click selects the cell: its loss curve and its Playground link appear
    lrs = [0.01, 0.1, 1.0]
    x, y = page.evaluate(CELL_AT, ["sweep_heatmap_a", 1, 1])
    page.mouse.click(x, y)
    assert wait_until(lambda: len(model_data(page, "sweep_curves", "label") or []) == 1, 30)
    label = model_data(page, "sweep_curves", "label")[0]
    assert label.startswith(f"momentum lr {lrs[1]:g} momentum 0.9"), label
    assert len(model_data(page, "sweep_curves", "ys")[0]) == 20  # one point per epoch
    assert "page=playground" in (model_data(page, "sweep_links") or "")

    # a double click opens that run in the Playground, in a new tab
    with page.context.expect_page() as opened:
        page.mouse.dblclick(x, y)
    playground = opened.value
    wait_for_app(playground)
    assert wait_until(lambda: "optimizer_name=momentum" in current_url(playground), 60), current_url(playground)
    url = current_url(playground)
    for part in ("page=playground", "dataset=xor", f"opt.learning_rate={lrs[1]}", "opt.momentum=0.9", "seed=0",
                 "max_epochs=20"):
        assert part in url, (part, url)
    assert not message(playground).strip(), message(playground)  # every setting of the link was taken
    playground.close()

    # colour by epochs to a target: the same runs, read again
    page.get_by_label("Colour by").select_option("epochs_to_target")
    assert wait_until(lambda: "epochs to test loss" in page.evaluate(
        "() => Bokeh.documents[0].get_model_by_name('sweep_heatmap_a').title.text"), 30)
    assert not console, console


def test_bad_settings_in_the_link_are_said_not_run(server, page, console):
    page.goto(server.url + "?page=sweep&values_b=0.9,1.5")
    wait_for_app(page, "sweep_status")
    assert wait_until(lambda: "decay" in message(page), 60), message(page)
    page.get_by_role("button", name="▶ Start sweep").click()
    assert wait_until(lambda: page.get_by_role("button", name="▶ Start sweep").is_visible(), 30)  # nothing started
    assert "decay" in message(page)
    assert not console, console


@pytest.fixture(scope="module")
def cluster():
    """A Dask cluster of this test's own (one worker process), so the test can watch its scheduler."""
    from distributed import Client, LocalCluster

    local = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(local)
    yield client
    client.close()
    local.close()


def scheduler_tasks(client):
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def test_stop_and_closing_the_tab_cancel_the_sweeps_tasks_on_the_cluster(cluster, browser):
    server = Server(env={"LAB_DASK_SCHEDULER": cluster.scheduler.address}, name="sweep-cluster")
    try:
        server.wait()
        page = browser.new_page()
        # 480 runs of 2000 epochs on one worker: minutes of work, so most of it is still pending below
        page.goto(server.url + "?page=sweep&epochs=2000&seeds=10")
        wait_for_app(page, "sweep_status")
        page.get_by_role("button", name="▶ Start sweep").click()
        assert wait_until(lambda: " of 480</b> runs finished" in status(page) and "<b>0 of" not in status(page),
                          240), status(page)
        assert scheduler_tasks(cluster) > 100
        page.get_by_role("button", name="■ Stop sweep").click()
        assert wait_until(lambda: scheduler_tasks(cluster) == 0, 60), scheduler_tasks(cluster)
        assert wait_until(lambda: "Stopped" in status(page), 30), status(page)
        before = int(status(page).split("<b>")[1].split(" of")[0])
        # Start goes on where it stopped, then the tab closes mid-sweep
        page.get_by_role("button", name="▶ Start sweep").click()
        assert wait_until(lambda: scheduler_tasks(cluster) > 100, 60)
        assert wait_until(lambda: int(status(page).split("<b>")[1].split(" of")[0]) > before, 240), status(page)
        page.close()
        assert wait_until(lambda: scheduler_tasks(cluster) == 0, 60), scheduler_tasks(cluster)
        assert wait_until(lambda: "destroyed" in server.output(), 30)
    finally:
        server.stop()
