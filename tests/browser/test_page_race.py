"""The optimizer race in a real browser: loads clean, racers move, a slider changes a path at once,
clicking the surface moves the start point."""

import time

from conftest import ARTIFACTS, ROOT, model_data, wait_for_app


def _paths(page):
    return model_data(page, "race_paths", "xs")


def _set_slider(page, title, current, value):
    """Moves the slider with this title and current value the way a drag does (in the browser)."""
    page.evaluate("""([title, current, value]) => {
        const slider = Array.from(Bokeh.documents[0].all_models).find(
            m => m.type && m.type.endsWith('Slider') && m.title === title && Math.abs(m.value - current) < 1e-9);
        slider.value = value;
    }""", [title, current, value])


def test_race_loads_plays_and_reacts_to_sliders_and_clicks(server, page, console):
    page.goto(server.url + "?page=race&preset=momentum vs RMSprop on Rosenbrock")
    wait_for_app(page, "race_step")
    start = _paths(page)
    assert len(start) == 2 and all(len(xs) == 1 for xs in start)
    page.get_by_role("button", name="▶ Play").click()
    time.sleep(2.0)
    page.get_by_role("button", name="❚❚ Pause").click()
    moving = _paths(page)
    assert all(len(xs) > 20 for xs in moving)
    before = model_data(page, "race_paths", "ys")[0][:20]
    # time the round trip inside the browser: slider moved -> new path data arrives
    page.evaluate("""() => { const src = Bokeh.documents[0].get_model_by_name('race_paths');
        const ys = () => (src.data.get ? src.data.get('ys') : src.data.ys);
        const first = () => Array.from(ys()[0]).slice(0, 20).join(',');
        const start = first();
        window._pathChanged = null;
        window._sliderMoved = performance.now();
        const poll = () => { if (first() !== start) { window._pathChanged = performance.now(); }
                             else if (performance.now() - window._sliderMoved < 5000) { setTimeout(poll, 2); } };
        setTimeout(poll, 2); }""")
    t0 = time.time()
    _set_slider(page, "Momentum", 0.9, 0.5)  # the momentum racer's (RMSprop's own momentum is 0)
    while time.time() - t0 < 1.0 and model_data(page, "race_paths", "ys")[0][:20] == before:
        time.sleep(0.05)
    after = model_data(page, "race_paths", "ys")[0][:20]
    assert after != before, "the momentum racer's path did not change within 1 s"
    latency = page.evaluate("() => window._pathChanged - window._sliderMoved")
    (ARTIFACTS / "race_latency.txt").write_text(f"{latency:.0f} ms from slider change to new path in the browser\n")
    print(f"race: slider to new path in {latency:.0f} ms (measured in the browser)")
    # click the surface: every racer restarts from the clicked point
    boxes = [c.bounding_box() for c in page.locator("canvas").all()]  # locators pierce the shadow DOM
    box = next(b for b in boxes if b and b["width"] > 500 and b["height"] > 450)  # the surface plot
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('race_paths').data.xs[0].length === 1",
                           timeout=5000)
    new_start = model_data(page, "race_paths", "xs")[0][0]
    assert abs(new_start - (-1.5)) > 0.05
    page.get_by_role("button", name="▶ Play").click()
    time.sleep(3.0)
    page.screenshot(path=str(ROOT / "docs" / "race.png"))
    assert console == []


def test_formula_box_rejects_bad_input_with_a_message(server, page, console):
    page.goto(server.url + "?page=race")
    wait_for_app(page, "race_step")
    box = page.get_by_label("Your own f(x, y)")
    box.fill("__import__('os').system('ls')")
    box.press("Enter")
    page.get_by_role("button", name="Use formula").click()
    page.get_by_text("not allowed").first.wait_for(timeout=10000)
    box.fill("x**2 + 10*y**2")
    box.press("Enter")
    page.get_by_role("button", name="Use formula").click()
    page.get_by_text("exact gradient").first.wait_for(timeout=10000)
    assert console == []
