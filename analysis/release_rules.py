"""The one owner of Sauti's release rules: what may be published, and from how many children.

Every threshold that decides whether a number about children may leave Sauti is defined here
and nowhere else: the web pages, the command line, the programme report, the feedback sheet
and the exports all take their :class:`ReleaseRules` from :func:`rules_from_config` (the web
app reads its configuration once, at start-up, and refuses to start with a value below a
minimum: nothing is silently raised).

The thresholds and where they come from:

* ``k`` (default **10**, never below **5**): counts from 1 to k-1 are not published.
  Ten is the reference default for children's data (anonymization-analysis.md, A11 a);
  five is the smallest threshold in use by statistical offices for small-area education data
  (Wisconsin DPI's "fewer than 5"; the SDC Practice Guide names 3 and 5 as typical k).
* ``k_low`` (default = ``k``; never below **5**): an optional lower threshold for
  non-sensitive items (sensitivity S0-S1, e.g. "which device do you use"). Sensitive items
  (S2 and above) always use ``k``.  A deployment may set it to 5 for a class-sized
  consultation; source as for the floor of ``k``.
* ``min_denominator`` (default **25**) and ``flag_denominator`` (default **50**): a share
  based on fewer than 25 children is not shown; 25-49 is marked "read with care" (MICS
  reliability convention, A12).
* ``microdata_k`` (default **5**) and ``partner_k`` (**3**): record-level exports (A9).

Examples
--------
>>> rules = rules_from_config({})
>>> rules.k, rules.low, rules.min_denominator
(10, 10, 25)
>>> rules.k_for(sensitive=False), rules_from_config({"DISCLOSURE_K_LOW": "5"}).k_for(sensitive=False)
(10, 5)
>>> rules_from_config({"DISCLOSURE_K": "3"})
Traceback (most recent call last):
...
analysis.release_rules.ReleaseRulesError: The disclosure threshold DISCLOSURE_K is 3, ...
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, overload

__all__ = [
    "DEFAULT_K",
    "MIN_K",
    "ReleaseRules",
    "ReleaseRulesError",
    "environment_config",
    "rules_for_report",
    "rules_from_config",
]

#: Counts from 1 to DEFAULT_K - 1 are not published unless configured otherwise.
DEFAULT_K = 10
#: No configuration may go below this threshold.
MIN_K = 5
#: Shares of fewer children are not shown (A12).
DEFAULT_MIN_DENOMINATOR = 25
#: Shares of fewer children are marked "read with care" (A12).
DEFAULT_FLAG_DENOMINATOR = 50
#: k-anonymity of public record-level exports (A9) and of partner/internal files.
MICRODATA_K = 5
PARTNER_K = 3


class ReleaseRulesError(ValueError):
    """A configured release rule is below its minimum (the app refuses to start)."""


@dataclass(frozen=True)
class ReleaseRules:
    """Thresholds of one deployment (see the module docstring for their sources).

    Examples
    --------
    >>> ReleaseRules(k=5).policy().k
    5
    >>> ReleaseRules(k=12).policy().min_denominator
    25
    """

    k: int = DEFAULT_K
    k_low: int | None = None
    min_denominator: int = DEFAULT_MIN_DENOMINATOR
    flag_denominator: int = DEFAULT_FLAG_DENOMINATOR
    microdata_k: int = MICRODATA_K

    def __post_init__(self) -> None:
        checks = [
            ("DISCLOSURE_K", self.k, MIN_K),
            ("DISCLOSURE_K_LOW", self.k_low if self.k_low is not None else self.k, MIN_K),
            ("DISCLOSURE_MIN_DENOMINATOR", self.min_denominator, DEFAULT_MIN_DENOMINATOR),
            ("DISCLOSURE_MICRODATA_K", self.microdata_k, MICRODATA_K),
        ]
        for name, value, floor in checks:
            if int(value) < floor:
                raise ReleaseRulesError(
                    f"The disclosure threshold {name} is {value}, below the minimum of {floor} "
                    f"that Sauti allows for children's data. Set it to {floor} or more "
                    "(or remove it to use the default)."
                )
        if self.k_low is not None and self.k_low > self.k:
            raise ReleaseRulesError(
                f"DISCLOSURE_K_LOW ({self.k_low}) is meant for non-sensitive items and cannot be "
                f"higher than DISCLOSURE_K ({self.k})."
            )
        if self.flag_denominator < self.min_denominator:
            raise ReleaseRulesError("DISCLOSURE_FLAG_DENOMINATOR must be at least DISCLOSURE_MIN_DENOMINATOR.")

    @property
    def low(self) -> int:
        """The threshold of non-sensitive items (``k_low``, else ``k``)."""
        return int(self.k if self.k_low is None else self.k_low)

    def k_for(self, sensitive: bool) -> int:
        """The threshold for an item: ``k`` for sensitive (S2+) items, ``k_low`` for the others."""
        return int(self.k) if sensitive else self.low

    def policy(self, sensitive: bool = True):
        """The table gate's :class:`~analysis.disclosure.DisclosurePolicy` for these rules."""
        from .disclosure import DisclosurePolicy

        k = self.k_for(sensitive)
        return DisclosurePolicy(
            k=k,
            min_denominator=max(self.min_denominator, k),
            flag_denominator=max(self.flag_denominator, self.min_denominator, k),
        )

    def microdata_policy(self):
        """The record-level export gate (:class:`~analysis.sdc.MicrodataPolicy`): k-anonymity of
        at least ``microdata_k`` and never weaker than the table threshold ``k``."""
        from .sdc import MicrodataPolicy

        return MicrodataPolicy(k=max(int(self.k), int(self.microdata_k)))

    def as_dict(self) -> dict[str, int]:
        """The rules as stored with a release (so a release says what it was made under)."""
        return {
            "k": int(self.k),
            "k_low": self.low,
            "min_denominator": int(self.min_denominator),
            "flag_denominator": int(self.flag_denominator),
            "microdata_k": int(self.microdata_k),
        }


@overload
def _int(config: Mapping[str, Any], name: str, default: int) -> int: ...


@overload
def _int(config: Mapping[str, Any], name: str, default: None) -> int | None: ...


def _int(config: Mapping[str, Any], name: str, default: int | None) -> int | None:
    value = config.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise ReleaseRulesError(f"The setting {name} must be a whole number, not {value!r}.") from None


def rules_from_config(config: Mapping[str, Any]) -> ReleaseRules:
    """Read ``DISCLOSURE_K``, ``DISCLOSURE_K_LOW``, ``DISCLOSURE_MIN_DENOMINATOR``,
    ``DISCLOSURE_FLAG_DENOMINATOR`` and ``DISCLOSURE_MICRODATA_K`` (environment:
    ``SAUTI_DISCLOSURE_K`` ...). Raises :class:`ReleaseRulesError` with a plain message for a
    value below its minimum; never changes a value silently."""
    return ReleaseRules(
        k=_int(config, "DISCLOSURE_K", DEFAULT_K),
        k_low=_int(config, "DISCLOSURE_K_LOW", None),
        min_denominator=_int(config, "DISCLOSURE_MIN_DENOMINATOR", DEFAULT_MIN_DENOMINATOR),
        flag_denominator=_int(config, "DISCLOSURE_FLAG_DENOMINATOR", DEFAULT_FLAG_DENOMINATOR),
        microdata_k=_int(config, "DISCLOSURE_MICRODATA_K", MICRODATA_K),
    )


def environment_config(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``SAUTI_DISCLOSURE_*`` variables as the configuration keys the app reads them into.

    >>> environment_config({"SAUTI_DISCLOSURE_K": "12", "HOME": "/home/me"})
    {'DISCLOSURE_K': '12'}
    """
    environ = os.environ if environ is None else environ
    return {key.removeprefix("SAUTI_"): value for key, value in environ.items() if key.startswith("SAUTI_DISCLOSURE_")}


def rules_for_report(config: Mapping[str, Any] | None = None, k: int | None = None) -> ReleaseRules:
    """The rules a report from a file is made under: the deployment's, with ``--k`` if given.

    ``config`` is the app's configuration (``sauti report``) or, without one, the
    ``SAUTI_DISCLOSURE_*`` environment (``python -m analysis.cli report``): both commands set k
    the same way.  A ``k`` below the minimum is refused, never raised silently.

    >>> rules_for_report({"DISCLOSURE_K": "12"}).k, rules_for_report({"DISCLOSURE_K": "12"}, k=7).k
    (12, 7)
    """
    rules = rules_from_config(environment_config() if config is None else config)
    return rules if k is None else dataclasses.replace(rules, k=k)
