"""How long a test waits before it calls a wait a hang: far past what any machine's speed or load explains."""

HANG_S = 1800.0
"""Seconds. What the suite waits on (an app's state, a subprocess) takes seconds on two quiet cores and
a few times that beside other work; half an hour means it will never come. CI's own limit is longer, so a
hang still fails with its reason, and the rest of the suite runs."""
