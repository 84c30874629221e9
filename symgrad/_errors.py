"""The exceptions symgrad raises.

Every error symgrad raises on purpose derives from one root, so `except SymgradError`
catches them all, and each also subclasses the built-in a caller would reach for:

```
SymgradError
 +-- ParseError(SymgradError, ValueError)               bad expression text; carries text, column
 +-- UnsupportedFunctionError(SymgradError, NotImplementedError)
 |                                                       a function symgrad cannot differentiate
 |                                                       or compile; names it and what is supported
 +-- VariableError(SymgradError, KeyError, ValueError)  unknown, missing or mis-shaped variable
 +-- ShapeError(SymgradError, ValueError)               an operation that needs another shape
 +-- SpecError(SymgradError, ValueError)                a documentation spec that is malformed
```

A failed verification is a result (`CheckReport.ok == False`), not an exception.

This module imports nothing from symgrad, so every layer can use it.
"""

from __future__ import annotations

__all__ = [
    "ParseError",
    "ShapeError",
    "SpecError",
    "SymgradError",
    "UnsupportedFunctionError",
    "VariableError",
]


class SymgradError(Exception):
    """The root of every error symgrad raises on purpose."""


class ParseError(SymgradError, ValueError):
    """Expression text that symgrad refuses to parse.

    Attributes:
        text: the text that was being parsed.
        column: 1-based column of the problem, or `None` when it concerns the whole text.
        reason: the message without the location.
        hint: what to do about it, printed after the location (e.g. the known functions).
    """

    def __init__(
        self, reason: str, *, text: str = "", column: int | None = None, hint: str = ""
    ) -> None:
        self.reason = reason
        self.text = text
        self.column = column
        self.hint = hint
        where = f" at column {column}" if column is not None else ""
        tail = f"; {hint}" if hint else ""
        super().__init__(f"{reason}{where}{tail}")


class UnsupportedFunctionError(SymgradError, NotImplementedError):
    """A function that symgrad cannot differentiate or compile.

    Attributes:
        function: the function's name.
        supported: the names that are supported in the same place.
    """

    def __init__(self, function: str, supported: tuple[str, ...] = (), context: str = "") -> None:
        self.function = function
        self.supported = tuple(supported)
        known = f"; supported: {', '.join(self.supported)}" if self.supported else ""
        where = f" {context}" if context else ""
        super().__init__(f"function '{function}' is not supported{where}{known}")


class VariableError(SymgradError, KeyError, ValueError):
    """An unknown, missing or mis-shaped variable, parameter or value.

    Attributes:
        name: the variable concerned, when there is one.
    """

    def __init__(self, message: str, *, name: str | None = None) -> None:
        self.name = name
        super().__init__(message)

    # KeyError quotes its message; a person should read it plain.
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ShapeError(SymgradError, ValueError):
    """An operation asked of a function whose shape does not allow it."""


class SpecError(SymgradError, ValueError):
    """A documentation spec that is malformed; names the entry and the field.

    Attributes:
        where: the entry, e.g. `derivation 2 ('Gaussian')`.
        field: the field within it, e.g. `points[1]`, or `None` for the entry as a whole.
    """

    def __init__(self, message: str, *, where: str = "", field: str | None = None) -> None:
        self.where = where
        self.field = field
        super().__init__(message)
