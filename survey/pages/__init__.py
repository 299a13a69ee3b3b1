"""Children's survey pages: built at run time from the instrument, one fresh form class per page."""

from survey.pages.builder import PageForm, build_page_form, stored_value_for

__all__ = ["PageForm", "build_page_form", "stored_value_for"]
