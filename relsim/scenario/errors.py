"""The error of an invalid scenario (kept apart so that every scenario module can raise it)."""

from relsim.util.errors import RelsimError


class ScenarioError(RelsimError):
    """A scenario (file or dict) is invalid. The message is meant for users."""
