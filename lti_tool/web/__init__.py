"""What every feature's pages share: the error page, and (as they come) form helpers and layout.

Features import from here, never from one another's views: ``from lti_tool.web import error_page``.
"""

from lti_tool.web.pages import error_page

__all__ = ["error_page"]
