"""The one family of errors a user can cause: bad input, a missing or unusable library or model.

Every such error's message names the input and what is wrong with it, so a front end (the
command line, the chat window) shows the message as it is, and never a traceback.
"""


class NewsragError(Exception):
    """Bad input or configuration; ``str(error)`` names the input and what is wrong."""
