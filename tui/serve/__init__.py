"""``r2k serve``: the monitor for every trader of a desk, over SSH and in a browser, on one
upstream. Headless: serve never imports Textual; each session's monitor is its own process.

- :mod:`tui.serve.main`: the command (listeners, upstream, signals), ``passwd`` and ``status``;
- :mod:`tui.serve.ssh` and :mod:`tui.serve.web`: the two ways in;
- :mod:`tui.serve.sessions`: what a session runs and in which environment, the registry;
- :mod:`tui.serve.proc`: a session's process on its PTY; :mod:`tui.serve.users`: the traders;
- :mod:`tui.serve.record`: the login log, the status file, the failed-login brake;
- :mod:`tui.serve.upstream`: the embedded relay.
"""
