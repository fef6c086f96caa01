"""The Class page (``/class``): a teacher creates a class, shares its join link, watches
every learner live on one wall, puts one on the projector, sends a new exercise and ends
the class. Everything past creation needs the teacher's link."""

from playground.ui import class_wall, pages


def page() -> None:
    pages.heading(__file__)
    class_wall.class_page()


page()
