"""The Typer layer of mmrl: parses flags and calls into the core library, nothing more.

Installed as the import package ``mmrl_cli``. Command modules import the core lazily, inside the
command functions, so that ``mmrl --help`` and light commands start without torch.
"""
