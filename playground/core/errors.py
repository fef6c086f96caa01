"""The one error type the app shows to people: its message is plain words, safe to display."""


class PlaygroundError(ValueError):
    """Bad input (a file, a formula, a link, an argument) explained in plain words.

    Pages catch this type and show ``str(err)``; anything else is a bug.
    """
