"""The Qt workstation: windows and widgets, thin over :mod:`screener.workflow`.

This package is the only one that imports Qt (PySide6). Importing ``screener.ui`` itself
imports nothing from Qt, so ``screener.cli`` registers the ``gui`` command
(:mod:`screener.ui.command`) without it; Qt comes in with :mod:`screener.ui.app`.

Modules:

* the station: ``app`` (QApplication, ``Station``: login, the shell, log out; the entry
  point ``screener gui`` / ``python -m screener.ui``), ``login`` (log-in, first-run and
  demo screens), ``main_window`` (the shell: menus, status bar, one role view),
  ``role_views`` (which view each role opens), ``context`` (what a view is given),
  ``theme``;
* the screener's view: ``screener_view``, ``controller`` (the bag on screen, TIP plans and
  feedback), ``scan_canvas`` (zoom, pan, loupe, AI boxes, marks, framed regions),
  ``scan_views`` (a bag's views side by side, also in a blind test),
  ``enhancement_toolbar``, ``decision_timer``, ``shortcuts``, ``bag_queue`` (demo
  conveyor, watch folder), ``render_worker`` (worker lanes that drop stale jobs),
  ``session_runner`` (session steps off the GUI thread);
* the supervisor's (``supervisor_*``, ``score_table``, ``chart_widget``), the trainer's
  (``trainer_*``, ``fti_preview``), the investigator's (``investigator_*``,
  ``event_search``, ``evidence_*``, ``chain_status``) and the administrator's
  (``admin_*``) views, with ``background`` (work off the GUI thread), ``table_model``
  (their tables) and ``widgets`` (pieces of their screens);
* Qt-free: ``config`` (workstation settings), ``keymap`` (key bindings as data),
  ``jobs`` (load, render, analyse, store a bag), ``ai_overlay``, ``shift_stats``.
"""
