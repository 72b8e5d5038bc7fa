"""Notifications: the transactional outbox, its channels and templates (see DESIGN §7).

Imports nothing of `workflow`; `workflow` wires it in.
"""

__all__: list[str] = []
