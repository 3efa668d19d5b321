"""The screening session as a Qt-free state machine: sources, decisions, roles."""
