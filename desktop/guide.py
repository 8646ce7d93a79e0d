"""Help > Guide: a short page on what the numbers mean, how long training takes, and what the
sampling controls do."""
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

GUIDE = """
<h2>RNN Studio in five minutes</h2>
<h3>Writing like a text (Generate)</h3>
<p>Pick a text (a built-in one, or any plain-text file: a few hundred thousand characters or
more), press <b>Train</b>, watch the loss fall, then press <b>Generate</b>. The model learns to
guess the next character. A <b>preset</b> sets everything for a budget of minutes and says what
to expect; the line under the budget estimates how long training takes. The advice under the
text says what would go wrong, and its button fixes it. <b>Stop</b> finishes the step it is on
and keeps everything learned so far; <b>Resume</b> goes on exactly where it stopped, for the
rest of its budget or the budget you set.</p>
<p><b>Bits per character</b> is how surprised the model is by text it never trained on: lower is
better. About 4 bits is "knows the alphabet", 2.5 "knows words", below 2 it writes convincing
phrases. On this kind of 2-core machine the default model reaches about 2.2 bits per character
on held-out Shakespeare after 10 minutes of training.</p>
<p><b>Style</b> sets three controls at once. <b>Temperature</b>: below 1 the model picks likely
characters (tidy, repetitive), above 1 unlikely ones (inventive, more mistakes); 0 always picks
the likeliest. <b>Top-k</b> and <b>top-p</b> cut away the unlikely tail before picking. A fixed
<b>seed</b> gives the same text again.</p>
<h3>Reading sentiment (Sentiment)</h3>
<p>Pick labeled data (a table with <i>text</i> and <i>label</i> columns), press <b>Train</b>.
A tenth of the data is held back for the final <b>test accuracy</b>: the share of texts it never
saw that the model labels right. VADER, a word list, is scored beside it. Type a sentence to
analyse it: green words push toward the positive label, red words away.</p>
<h3>Keeping models (Models)</h3>
<p>Every trained model is listed with its score. Load, rename, export (MXNet, or ONNX where the
model allows it) or delete it there. Models survive crashes: each save is complete or not made.</p>
<p>Settings under <b>Advanced</b> can stay as they are; their defaults measured best here. Hover
over any setting to read what it does.</p>
"""


def show_guide(parent):
    dialog = QDialog(parent)
    dialog.setWindowTitle("RNN Studio guide")
    dialog.resize(640, 620)
    text = QTextBrowser()
    text.setHtml(GUIDE)
    buttons = QDialogButtonBox(QDialogButtonBox.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.open()
    return dialog
