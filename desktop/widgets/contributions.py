"""Words coloured by how much each pushed the model towards its verdict (occlusion scores)."""
import html

from PySide6.QtWidgets import QTextBrowser


def contributions_html(words, positive_rgb=(46, 160, 67), negative_rgb=(215, 58, 73)) -> str:
    """Green for words that supported the verdict, red for words that argued against it."""
    if not words:
        return ""
    scale = max(0.05, max(abs(c) for _, c in words))
    parts = []
    for word, c in words:
        r, g, b = positive_rgb if c >= 0 else negative_rgb
        alpha = min(0.85, abs(c) / scale * 0.85)
        parts.append(f'<span style="background-color: rgba({r},{g},{b},{alpha:.2f}); '
                     f'padding: 2px" title="{c:+.3f}">{html.escape(word)}</span>')
    return " ".join(parts)


class ContributionView(QTextBrowser):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setMinimumHeight(80)
        self.words = []

    def show_words(self, words):
        self.words = list(words)
        self.setHtml(f'<div style="font-size: 14pt; line-height: 160%">'
                     f'{contributions_html(self.words)}</div>')
