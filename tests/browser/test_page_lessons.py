"""Lessons and teacher mode in the browser: every lesson opens by its link with its settings, Next walks
every step (settings in the address, the numbers the terminal runner prints), teacher mode hides exactly
what the address names, and a click on the boundary plot shows the forward pass by hand."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import ARTIFACTS, current_url, message, model_data, wait_for_app, wait_until

from lab import lessons
from lab.lessons import pages
from lab.lessons.runner import TrainingRunner


def _address(page):
    return dict(parse_qsl(urlsplit(current_url(page)).query, keep_blank_values=True))


def _expected(lesson, k):
    """The settings the page's address must hold at step k: the step's settings as the page writes them."""
    q = lesson.query(k)
    if lesson.page == "playground":
        return pages.playground(q).to_query()
    if lesson.page == "race":
        config = pages.race(q)
        config.capture(config.make_race())
        return config.to_query()
    run, surface = pages.landscape(q)
    return {**run.to_query(), **surface.to_query()}


def _differences(page, lesson, k):
    address = _address(page)
    wanted = {**_expected(lesson, k), "lesson": lesson.slug, "step": str(k)}
    return {key: (value, address.get(key)) for key, value in wanted.items() if address.get(key) != value}


def _text(page, name):
    return model_data(page, name) or ""  # (the newest model of that name: a rebuilt race leaves its old ones a while)


def _at_step(page, lesson, k, timeout=120):
    return wait_until(lambda: f"Step {k} of {len(lesson)}" in _text(page, "lesson_step")
                      and not _differences(page, lesson, k), timeout)


def _shows_run_numbers(page, lesson, k, runner):
    """The page's status line shows the epoch and training loss the terminal runner prints for step k
    (the same seed, data and kernels: the same numbers)."""
    row = runner.step(k)[-1]
    if lesson.page == "race" or "play" in lesson.step(k).actions:
        return True
    if lesson.page == "landscape":
        return wait_until(lambda: f"Surface at epoch {row['epoch']}:" in _text(page, "landscape_info"), 120)
    wanted = (f"<b>epoch {row['epoch']}</b>", f"train loss {row['train loss']:.4f}")
    return wait_until(lambda: all(w in _text(page, "status") for w in wanted), 120)


@pytest.mark.parametrize("slug", lessons.names())
def test_every_lesson_opens_by_its_link_and_next_walks_every_step(server, page, console, slug):
    lesson = lessons.get(slug)
    runner = TrainingRunner(lesson) if lesson.page != "race" else None
    page.goto(server.url + lesson.link(1))
    wait_for_app(page, "lesson_step")
    assert _at_step(page, lesson, 1), _differences(page, lesson, 1)
    assert runner is None or _shows_run_numbers(page, lesson, 1, runner), _text(page, "status")
    for k in range(2, len(lesson) + 1):
        page.get_by_role("button", name="Next ▶").click()
        assert _at_step(page, lesson, k), (k, _differences(page, lesson, k))
        assert runner is None or _shows_run_numbers(page, lesson, k, runner), (k, _text(page, "status"))
    assert page.get_by_role("button", name="Next ▶").is_disabled()
    if lesson.page == "race" and lesson.steps[-1].actions != ("play",):  # the 1-D lessons end diverging
        assert wait_until(lambda: "diverged" in _text(page, "lesson_table")), _text(page, "lesson_table")
        assert wait_until(lambda: "diverged: its steps grew without bound" in message(page)), message(page)
    if slug == "quadratic-descent":  # Back: lr 1.0 again, u between 20 and -21, and the warning gone
        page.get_by_role("button", name="◀ Back").click()
        assert _at_step(page, lesson, len(lesson) - 1)
        assert wait_until(lambda: "diverged" not in message(page) and "-21" in _text(page, "lesson_table"))
    if slug in ("gradient-descent-by-hand", "keras-hinge", "sharp-and-flat-minima"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"lesson-{slug}.png"), full_page=True)
    assert console == []


def test_a_step_link_opens_at_that_step_and_bad_links_say_what_is_wrong(server, page, console):
    lesson = lessons.get("gradient-descent-by-hand")
    page.goto(server.url + lesson.link(3))
    wait_for_app(page, "lesson_step")
    assert _at_step(page, lesson, 3), _differences(page, lesson, 3)
    assert wait_until(lambda: "2.99707" in _text(page, "lesson_table")), _text(page, "lesson_table")  # 10 steps
    page.goto(server.url + "?lesson=quadratic-descent&step=99")
    wait_for_app(page, "lesson_step")
    assert _at_step(page, lessons.get("quadratic-descent"), 1)
    assert wait_until(lambda: "has steps 1 to 4, not 99; showing step 1" in message(page)), message(page)
    page.goto(server.url + "?lesson=nope")
    wait_for_app(page, "lesson_list")
    assert wait_until(lambda: "unknown lesson 'nope'; choose one of" in message(page)), message(page)
    page.goto(server.url + "?page=lessons")
    wait_for_app(page, "lesson_list")
    for slug in lessons.names():
        assert page.locator(f"#lesson-{slug}").count() == 1
    page.locator("#lesson-keras-hinge").click()
    wait_for_app(page, "lesson_step")
    assert _at_step(page, lessons.get("keras-hinge"), 1)
    assert console == []


def _visible(page, text):
    found = page.get_by_text(text, exact=True)
    return found.count() > 0 and found.first.is_visible()


def test_teacher_mode_hides_exactly_what_the_address_names_and_keeps_it_hidden(server, page, console):
    lesson = lessons.get("xor-needs-a-hidden-layer")
    page.goto(server.url + lesson.link(1, controls="learning_rate,reset", text="none", present=1))
    wait_for_app(page, "lesson_step")
    assert _at_step(page, lesson, 1)
    assert wait_until(lambda: _visible(page, "Reset")), "the named Reset button is shown"
    assert page.get_by_text("Learning rate (log10)").first.is_visible()
    for hidden in ("Dataset", "Regenerate data", "Step (1 epoch)", "▶ Play", "Compare (same init)"):
        assert not _visible(page, hidden), hidden
    assert page.evaluate("() => Bokeh.documents[0].get_model_by_name('lesson_text').visible") is False
    width = page.evaluate("() => Bokeh.documents[0].get_model_by_name('boundary').width")
    assert width > 400, width  # present=1: the projector's plots are larger (300 wide otherwise)
    kept = {"controls": "learning_rate,reset", "text": "none", "present": "1"}
    page.get_by_role("button", name="Reset").first.click()
    assert wait_until(lambda: all(_address(page).get(k) == v for k, v in kept.items())), _address(page)
    page.get_by_role("button", name="Next ▶").click()
    assert _at_step(page, lesson, 2)
    assert all(_address(page).get(k) == v for k, v in kept.items()), _address(page)
    assert not _visible(page, "Dataset") and _visible(page, "Reset")
    page.goto(current_url(page))  # the link as it now is: still step 2, still in teacher mode
    wait_for_app(page, "lesson_step")
    assert _at_step(page, lesson, 2) and not _visible(page, "Dataset")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "teacher-mode.png"), full_page=True)

    page.goto(server.url + "?page=race&controls=none")
    wait_for_app(page, "race_step")
    assert wait_until(lambda: not page.locator("#sidebar").is_visible())
    assert not _visible(page, "▶ Play") and not _visible(page, "Add racer")
    page.goto(server.url + "?page=landscape&controls=warp,span")
    wait_for_app(page, "landscape_info")
    assert wait_until(lambda: "no control named 'warp'" in message(page)), message(page)
    assert page.get_by_text("Range a").first.is_visible() and not _visible(page, "Directions")
    assert console == []


def test_a_click_on_the_boundary_shows_the_forward_pass_by_hand(server, page, console):
    page.goto(server.url + lessons.get("keras-hinge").link(3))
    wait_for_app(page, "lesson_step")
    # the lesson's hand-set model at (0.3, 0.1): a1 = tanh(10 (0.4 - 0.5)), output tanh(5 a1)
    assert wait_until(lambda: "-0.7616" in (model_data(page, "forward_pass") or "")
                      and "= -0.9990" in (model_data(page, "forward_pass") or "")), model_data(page, "forward_pass")
    assert wait_until(lambda: "train acc 1.000" in _text(page, "status"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "forward-pass.png"), full_page=True)
    boxes = [c.bounding_box() for c in page.locator("canvas").all()]  # locators pierce the shadow DOM
    box = min((b for b in boxes if b and b["width"] >= 250), key=lambda b: (b["y"], b["x"]))  # the boundary plot
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.click(x + 0.75 * w, y + 0.3 * h)
    shown = lambda: model_data(page, "forward_pass") or ""  # noqa: E731
    assert wait_until(lambda: "input (0.300, 0.100)" not in shown() and "Forward pass for the input (" in shown())
    page.get_by_role("button", name="Hide the forward pass").click()
    assert wait_until(lambda: not page.evaluate(
        "() => Bokeh.documents[0].get_model_by_name('forward_pass').visible"))
    assert console == []


def _canvases(page, min_width=150):
    boxes = [c.bounding_box() for c in page.locator("canvas").all()]  # locators pierce the shadow DOM
    return sorted((b for b in boxes if b and b["width"] >= min_width), key=lambda b: (b["y"], b["x"]))


def test_the_network_shows_biases_and_a_hovered_neuron_enlarged_with_its_numbers(server, page, console):
    page.goto(server.url + lessons.get("keras-hinge").link(3))  # the hand-set model: bias -5 on unit 1
    wait_for_app(page, "lesson_step")
    neurons = lambda key: model_data(page, "network_neurons", key) or []  # noqa: E731
    assert wait_until(lambda: neurons("b")[2:3] == [-5.0])  # after the two inputs, which have no bias
    assert wait_until(lambda: neurons("z")[:3] == ["0.3000", "0.1000", "-1.0000"]), neurons("z")
    assert neurons("a")[2] == "-0.7616" and neurons("bias")[2] == "-5.0000"
    net = next(b for b in _canvases(page) if b["width"] < 330 and b["x"] > 500)  # the diagram, right of the plot
    title = lambda: page.evaluate(  # noqa: E731
        "() => Bokeh.documents[0].get_model_by_name('network_zoom_figure').title.text")
    assert wait_until(lambda: title() == "output unit 1 (hover a neuron)"), title()  # enlarged until one is hovered
    for fy in [i / 24 for i in range(2, 22)]:  # down the inputs' column until the pointer is on a neuron
        page.mouse.move(net["x"] + 0.12 * net["width"], net["y"] + fy * net["height"])
        if wait_until(lambda: "hover a neuron" not in title().lower(), timeout=0.3):
            break
    assert title().startswith("input unit"), title()
    assert console == []


def test_three_classes_get_a_colour_each_and_a_digit_click_its_forward_pass(server, page, console):
    page.goto(server.url + "?page=playground&dataset=gauss3&hidden=4&steps_per_second=2000")
    wait_for_app(page)
    colors = set(model_data(page, "train_points", "color") or [])
    assert len(colors) == 3, colors
    page.get_by_role("button", name="▶ Play").click()
    assert wait_until(lambda: "test acc 0.9" in _text(page, "status") or "test acc 1.0" in _text(page, "status"))
    page.get_by_role("button", name="❚❚ Pause").click()
    # the boundary image: levels of three classes (class * 24 + shade), every class present
    classes = page.evaluate("""() => { const m = [...Bokeh.documents[0].all_models]
        .filter(m => m.name === 'boundary_image').sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1))).pop();
        const img = m.data.get ? m.data.get('image')[0] : m.data.image[0];
        return [...new Set(Array.from(img.flat ? img.flat() : img, v => Math.floor(v / 24)))].sort(); }""")
    assert classes == [0, 1, 2], classes
    assert page.get_by_text("class 2", exact=True).count() == 1  # click-to-add offers every class
    page.goto(server.url + "?page=playground&dataset=digits&hidden=16")
    wait_for_app(page)
    digits = _canvases(page, 400)[0]
    shown = lambda: model_data(page, "forward_pass") or ""  # noqa: E731
    for fx, fy in ((0.1, 0.3), (0.3, 0.3), (0.5, 0.5), (0.2, 0.6), (0.7, 0.4)):
        page.mouse.click(digits["x"] + fx * digits["width"], digits["y"] + fy * digits["height"])
        if wait_until(lambda: "Forward pass for test image" in shown(), timeout=3):
            break
    assert "Σ of 64 products" in shown() and "predicted" in shown(), shown()
    assert console == []
