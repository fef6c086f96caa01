"""Plain text shown through Streamlit's Markdown, exactly as written.

``st.markdown``, ``st.error``, ``st.warning``, ``st.info``, ``st.caption`` and widget
labels all read their text as Markdown, with Streamlit's extras ($...$ as LaTeX,
``:red[...]`` directives), and Streamlit has no public function to escape it. So the
formula hint "write powers with **, e.g. x1**2" showed "x1" in bold and no asterisks, and
a link value such as ``__init__`` lost its underscores. Whatever the learner typed or
named (formulas, file names, CSV headers, link values) and every message that may quote
it or carry such a hint goes through ``escape_markdown`` on its way to the page.
"""

import re

# CommonMark lets a backslash escape any ASCII punctuation; these start Markdown (or
# Streamlit's LaTeX and directives) anywhere in a line. Others (".", "-", ">", ":") only
# where they start a line, below, or not at all: escaping them everywhere would fill
# every message with backslashes for nothing.
_INLINE = re.compile(r"([\\`*_\[\]<$~|&])")
# At the start of a line: a heading, quote, list item, rule or setext underline.
_LINE_START = re.compile(r"^([ \t]*)(?:(\d+)([.)])|([#>+=-]))", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """``text`` with its Markdown escaped, so that it shows exactly as written."""
    text = _INLINE.sub(r"\\\1", str(text))

    def at_line_start(m: re.Match) -> str:
        space, digits, mark, sign = m.groups()
        return f"{space}{digits}\\{mark}" if digits else f"{space}\\{sign}"

    return _LINE_START.sub(at_line_start, text)
