"""The main window's tabs, each a package with the widgets only it uses."""
