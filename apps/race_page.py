import panel as pn


def build(query):
    return pn.pane.Markdown("coming")
