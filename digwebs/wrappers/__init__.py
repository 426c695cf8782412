"""The request and response classes, one module each.

:mod:`digwebs.wrappers.request` holds :class:`~digwebs.Request` and
:mod:`digwebs.wrappers.response` :class:`~digwebs.Response`. They are not
modules named ``digwebs.request`` and ``digwebs.response`` because those
names are the context proxies; projects import both classes from
:mod:`digwebs`. (Nothing is imported here: the two modules and
:mod:`digwebs.errors` import each other's names.)
"""
