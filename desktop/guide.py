"""Help > Guide: a short page on what the numbers mean, how long training takes, what the
sampling controls do, and how to look inside a model."""
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
<p><b>Many samples</b> (beside <b>One sample</b>) writes one text per temperature and seed at
once, side by side; <b>Continue</b> on one goes on writing it. <b>Judge with</b> a sentiment
model gives every sample, and each line, a verdict; <b>Steer toward</b> one of its labels draws
several candidate lines at each line end (the strength) and keeps the likeliest to carry it.</p>
<p><b>Copied</b>, under each sample, is the share of it found word for word in the training text
(20 characters or more in a row): a model that keeps copying more as it trains is learning the
text by heart. <b>Highlight copied text</b> marks those stretches.</p>
<h3>What the model learned (Look inside)</h3>
<p>Pick a text for the model to read and press <b>Record</b>: every cell's value after each
character is kept, and the cells are ranked by what they follow (quotes, a speaker's name, the
position in the line, ...). Click a cell to colour the text by it (blue low, red high); select a
stretch of text to find the cells that switch on across it and where else they do.</p>
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
