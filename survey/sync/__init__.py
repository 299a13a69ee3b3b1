"""Field laptops (issue 22): the formats of field packages, bundles and receipts.

:mod:`survey.sync.bundle` holds the bytes, signatures and encryption (PyNaCl) and nothing else;
what goes into a bundle and what an import changes is :mod:`survey.services.sync`; the central
server's endpoints are :mod:`survey.views.sync`; the ``sauti sync`` commands are
:mod:`survey.sync_cli`.
"""
