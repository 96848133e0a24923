"""A change to Gradio's per-session state: no component configs rendered for deep links.

Why it exists: on a session's first event Gradio creates a ``SessionState`` and there renders
the config of *every* component of the app (about 230 here: several milliseconds of one core,
under the interpreter lock, for each student who opens the page), then writes each event's
input and output values into those configs.  All of it serves Gradio's "deep links" only, which
this app does not offer; in a class it is the largest cost of a session's first event.

With :func:`lazy_session_config` applied, a session starts with no config rendered, and values
and replaced components (an update, ``gr.skip()`` included) go only into configs that already
exist.  Four methods of ``gradio.state_holder.SessionState`` are replaced: ``__init__``,
``_update_value_in_config``, ``__setitem__`` and ``_update_config``.

Checked against gradio 6.31 (``requirements.txt`` pins that minor series).  The change is
guarded: it is skipped, and the app runs with Gradio's own behaviour, when ``__init__`` no
longer takes ``(self, blocks)`` or ``__setitem__``'s source no longer has the steps that
:func:`_set_without_config` repeats.
"""
from __future__ import annotations

import datetime
import inspect


def lazy_session_config() -> bool:
    """Make Gradio's per-session state skip the component configs it keeps for deep links.

    Returns whether the change applies (also when it was applied before).
    """
    from gradio import state_holder

    cls = state_holder.SessionState
    if getattr(cls, "_lazy_config", False):
        return True
    original = cls.__init__
    if list(inspect.signature(original).parameters) != ["self", "blocks"] \
            or not hasattr(cls, "_update_value_in_config"):
        return False

    class _NoEagerConfigs:           # what SessionState.__init__ reads from the app
        def __init__(self, blocks):
            self.default_config = blocks.default_config
            self.blocks = {}          # "render these configs now": none

    def __init__(self, blocks):
        original(self, _NoEagerConfigs(blocks))

    update_value = cls._update_value_in_config

    def _update_value_in_config(self, key, value):
        # an event's inputs and outputs: only into configs already kept
        if key in self.config_values:
            update_value(self, key, value)

    # An update (gr.skip() too, which the training poll and the inpainting stream send for every
    # output that has not changed) makes Gradio build the component anew and render its config:
    # render it only where a config is kept already.
    set_item, update_config = cls.__setitem__, cls._update_config
    if _setitem_is_gradio6(set_item):
        def __setitem__(self, key, value):
            if key in self.config_values:
                set_item(self, key, value)
            else:
                _set_without_config(self, key, value)

        def _update_config(self, key):
            if key in self.config_values:
                update_config(self, key)

        cls.__setitem__ = __setitem__
        cls._update_config = _update_config
    cls.__init__ = __init__
    cls._update_value_in_config = _update_value_in_config
    cls._lazy_config = True
    return True


def _setitem_is_gradio6(set_item) -> bool:
    """Whether SessionState.__setitem__ still does what _set_without_config repeats (Gradio 6)."""
    try:
        src = inspect.getsource(set_item)
    except (OSError, TypeError):
        return False
    return all(k in src for k in ("isinstance(block, State)", "self._state_ttl[key]", "self.state_data[key] = value",
                                  "self.blocks_config.blocks[key] = value", "config_for_block"))


def _set_without_config(state, key, value) -> None:
    """Gradio's ``SessionState.__setitem__`` minus rendering the component's config (deep links only)."""
    from gradio.components import State

    block = state.blocks_config.blocks.get(key)
    if isinstance(block, State):
        state._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
        state.state_data[key] = value
    else:
        state.blocks_config.blocks[key] = value
