"""gdcourse: the helper package behind a hands-on gradient-descent course.

Importing it has no side effects: nothing is seeded, printed or reconfigured.
"""

__version__ = "0.1.0"
