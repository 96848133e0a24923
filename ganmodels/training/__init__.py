"""Training: the shared loop (``loop``), the Live training tab's run state machine (``live``), DDP (``distributed``)."""
