"""The Qt workstation: windows and widgets, thin over :mod:`screener.workflow`.

This package is the only one that imports Qt (PySide6). Importing ``screener.ui`` itself
imports nothing from Qt, so ``screener.cli`` registers the ``gui`` command
(:mod:`screener.ui.command`) without it; Qt comes in with :mod:`screener.ui.app`.

Modules:

* ``app``: QApplication, ``build_workstation``, the entry point (``screener gui``,
  ``python -m screener.ui``); ``main_window``: the shell with a place per role view and
  the status bar; ``theme``: the dark theme.
* ``screener_view``: the screener's screen; ``controller``: the bag on screen and the
  session behind it; ``scan_canvas``: one view (zoom, pan, loupe, AI boxes, marks,
  framed feedback regions); ``enhancement_toolbar``: functions and the variable-density
  slider; ``decision_timer``; ``shortcuts``: key bindings as Qt shortcuts.
* ``bag_queue``: the queue, the demo conveyor and the watch folder; ``render_worker``: the
  worker lanes that drop stale jobs; ``session_runner``: session steps off the GUI thread.
* Qt-free: ``config`` (workstation settings), ``keymap`` (key bindings as data),
  ``jobs`` (load, render, analyse, store a bag), ``ai_overlay``, ``shift_stats``.
"""
