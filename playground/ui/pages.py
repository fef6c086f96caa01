"""The app's pages, one registry: each page's file (relative to the entry script), its
title (the navigation's and the page's own heading), icon and, where it has a short one,
URL path. The entry script builds the navigation from it, each page takes its heading
from it, and links point at its files."""

from pathlib import Path
from typing import NamedTuple

import streamlit as st


class AppPage(NamedTuple):
    path: str
    title: str
    icon: str
    url_path: str | None = None  # None: st.navigation's, from the file name


PLAYGROUND_PAGE = "app_pages/playground.py"  # the default page, served at the root
CLASS_PAGE = "app_pages/class_page.py"

PAGES = (
    AppPage(PLAYGROUND_PAGE, "Playground", ":material/science:"),
    AppPage("app_pages/bends_regions.py", "Bends & regions", ":material/polyline:"),
    AppPage("app_pages/lesson_linear.py", "Why linear models fail", ":material/straighten:"),
    AppPage("app_pages/lesson_backprop.py", "Backpropagation, step by step", ":material/replay:"),
    AppPage("app_pages/lesson_gradients.py", "Gradients through depth", ":material/trending_down:"),
    AppPage(
        "app_pages/lesson_softmax.py",
        "Probabilities: softmax and cross-entropy",
        ":material/percent:",
    ),
    AppPage(
        "app_pages/lesson_sgd.py", "SGD, minibatches and the learning rate", ":material/footprint:"
    ),
    AppPage(
        "app_pages/lesson_overfit.py",
        "When networks overfit: regularisation",
        ":material/blur_on:",
    ),
    AppPage("app_pages/lesson_finetune.py", "Saving, restoring and fine-tuning", ":material/save:"),
    AppPage("app_pages/lesson_code.py", "From the playground to code", ":material/code:"),
    # A short address for the teacher's link.
    AppPage(CLASS_PAGE, "Class", ":material/groups:", url_path="class"),
)
_BY_NAME = {Path(p.path).name: p for p in PAGES}


def page_title(file: str) -> str:
    """The title of the page in ``file`` (a page passes its ``__file__``)."""
    return _BY_NAME[Path(file).name].title


def heading(file: str) -> None:
    """The page's own heading: its title, as the navigation shows it."""
    st.title(page_title(file))


def navigation():
    """The app's navigation, every page of the registry (the first is the default)."""
    return st.navigation(
        [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in PAGES]
    )
