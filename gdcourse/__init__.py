"""gdcourse: the helper package behind a hands-on gradient-descent course.

Importing it has no side effects: nothing is seeded, printed or reconfigured.
``gdcourse.set_language("ja")`` (or ``GDCOURSE_LANG=ja``) puts the package's messages in Japanese
(also ``zh``, ``ko``, ``fr``; ``en`` is the default).
"""

__version__ = "0.1.0"

__all__ = ["set_language", "get_language"]


def __getattr__(name):
    # set_language / get_language live in gdcourse._messages, imported when first asked for
    if name in ("set_language", "get_language"):
        from . import _messages
        return getattr(_messages, name)
    raise AttributeError(f"module 'gdcourse' has no attribute {name!r}")
