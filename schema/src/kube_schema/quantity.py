"""Kubernetes resource quantities in the canonical string form a real API server stores and returns.

`canonical(8) == "8"`, `canonical(0.5) == "500m"`, `canonical("1024Mi") == "1Gi"`, `canonical("2000") ==
"2k"`: the value is kept exactly (rounded up to 1n like apimachinery), written with the largest suffix of its
format (binary Ki..Ei, decimal n..E, or an eN exponent) that leaves an integer mantissa.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

QUANTITY_RULE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$"
)
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exp: suffix for suffix, exp in _DECIMAL.items()}
_NANO = Decimal("1e-9")


class QuantityError(ValueError):
    """Not a quantity; the message is apimachinery's rule."""


def parse(value: Any) -> tuple[Decimal, str]:
    """(exact value, format) with format one of BinarySI, DecimalSI, DecimalExponent."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QuantityError(QUANTITY_RULE)
    if isinstance(value, (int, float)):
        try:
            return Decimal(str(value)), "DecimalSI"
        except InvalidOperation:
            raise QuantityError(QUANTITY_RULE) from None
    match = _QUANTITY.match(value.strip())
    if not match:
        raise QuantityError(QUANTITY_RULE)
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * (2 ** _BINARY[suffix]), "BinarySI"
    if suffix[:1] in ("e", "E") and len(suffix) > 1:  # "E" alone is exa
        return number.scaleb(int(suffix[1:])), "DecimalExponent"
    return number.scaleb(_DECIMAL[suffix]), "DecimalSI"


def canonical(value: Any) -> str:
    """The canonical string of a quantity given as a number or a string; QuantityError if it is none."""
    amount, fmt = parse(value)
    amount = (amount / _NANO).to_integral_value(ROUND_CEILING) * _NANO  # apimachinery keeps nano precision
    if amount == 0:
        return "0"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if fmt == "BinarySI" and amount >= 1024 and amount == amount.to_integral_value():
        units = int(amount)
        power = 0
        while power < 60 and units % 1024 == 0:
            units //= 1024
            power += 10
        suffix = {v: k for k, v in _BINARY.items()}.get(power, "")
        return f"{sign}{units}{suffix}"
    exponent = -9
    while (
        exponent < 18
        and (amount.scaleb(-(exponent + 3))) == amount.scaleb(-(exponent + 3)).to_integral_value()
    ):
        exponent += 3
    mantissa = int(amount.scaleb(-exponent))
    if fmt == "DecimalExponent":
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    return f"{sign}{mantissa}{_DECIMAL_SUFFIX[exponent]}"
