"""The one base of every error meant for a user.

A user's mistake (a bad scenario, log, experiment, store or output folder) raises
a subclass of :class:`RelsimError`; the command line catches this base, prints
the message and exits with status 2, so a new error type can never print a
traceback. Anything else is a bug in relsim.

>>> issubclass(UserError, ValueError)
True
"""


class RelsimError(ValueError):
    """A user-facing error: its message names the file, field, value and what is allowed."""


#: Short alias for readers of the CLI.
UserError = RelsimError
