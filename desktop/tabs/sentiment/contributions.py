"""Words coloured by their own direction (occlusion scores): green for words that push toward
the positive label (for a negative/positive model) or toward the verdict (otherwise), red for
words that push away from it; a legend says which."""
import html

from PySide6.QtWidgets import QTextBrowser


def contributions_html(words, positive_rgb=(46, 160, 67), negative_rgb=(215, 58, 73)) -> str:
    """Green for words with a positive contribution, red for negative ones."""
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

    def show_words(self, words, toward: str = ""):
        self.words = list(words)
        legend = ""
        if self.words and toward:
            legend = (f'<div style="font-size: 10pt; margin-top: 8px">'
                      f'{contributions_html([(f"toward {toward}", 1.0)])} '
                      f'{contributions_html([(f"away from {toward}", -1.0)])} '
                      f'(stronger colour: more effect)</div>')
        self.setHtml(f'<div style="font-size: 14pt; line-height: 160%">'
                     f'{contributions_html(self.words)}</div>{legend}')
