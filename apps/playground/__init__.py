"""The Playground page: the page (page.py) and its Bokeh views (views.py)."""
