"""The Race page's racer cards: each racer's own sliders (from its optimizer's param declarations), its
schedule, and Remove; plus Add racer. A moved slider restarts that racer at once and catches it up."""

import panel as pn

from apps.widgets import param_widgets
from lab import optimizers, schedules


class RacerCards:
    """The racers' controls of one Race page (``page``: the RacePage, which owns the race)."""

    def __init__(self, page):
        self.page = page
        self.choice = pn.widgets.Select(name="Add racer", options=optimizers.names(), value="nesterov", width=140)
        self.button = pn.widgets.Button(name="Add", width=60)
        self.button.on_click(page.messages.guard(self.on_add))
        self.box = pn.Column(sizing_mode="stretch_width")

    def card_list(self):
        return pn.Card(pn.Row(self.choice, self.button), self.box, title="Racers", sizing_mode="stretch_width")

    def card(self, index):
        r = self.page.race.racers[index]
        g = self.page.messages.guard
        opt = r.optimizer

        def restart(*_):
            if r in self.page.race.racers:  # a card of a race that was replaced does nothing
                self.page.race.restart(self.page.race.racers.index(r), catch_up=True)
                self.page.render()
                self.page.sync_url()

        watched = [p for p in opt.param if p not in ("name", "schedule")]
        opt.param.watch(g(restart), watched)
        current = schedules.name_of(opt.schedule)
        schedule = pn.widgets.Select(name="Schedule", options=schedules.names(), value=current, width=140)
        sched_box = pn.Column()

        def show_schedule():
            sched_box.objects = param_widgets(opt.schedule, exclude=("learning_rate",)) if opt.schedule else []
            if opt.schedule:
                opt.schedule.param.watch(g(restart), [p for p in opt.schedule.param if p != "name"])

        def on_schedule(event):
            opt.schedule = None if event.new == "constant" else schedules.get(event.new)
            show_schedule()
            restart()

        show_schedule()
        schedule.param.watch(g(on_schedule), "value")
        remove = pn.widgets.Button(name="Remove", width=80, button_type="light")
        remove.on_click(g(lambda e: r in self.page.race.racers and self.on_remove(self.page.race.racers.index(r))))
        header = pn.pane.HTML(f'<span style="color:{r.color};font-size:18px">■</span> <b>{r.name}</b>')
        return pn.Card(*param_widgets(opt), schedule, sched_box, remove, header=header,
                       sizing_mode="stretch_width", margin=(4, 2))

    def rebuild(self):
        self.box.objects = [self.card(i) for i in range(len(self.page.race.racers))]

    def on_add(self, event):
        self.page.race.add(self.choice.value)
        self.page.race.restart(len(self.page.race.racers) - 1, catch_up=True)
        self.rebuild()
        self.page.build_figures()
        self.page.sync_url()

    def on_remove(self, index):
        if len(self.page.race.racers) == 1:
            raise ValueError("keep at least one racer")
        self.page.race.remove(index)
        self.rebuild()
        self.page.build_figures()
        self.page.sync_url()
