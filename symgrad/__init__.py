"""symgrad: exact closed-form derivatives from sympy, compiled to torch, verified by autograd.

```python
>>> import symgrad as sg
>>> f = sg.function("x**2 + y**3")
>>> f.gradient()
Function([2*x, 3*y**2], variables=(x, y))
>>> f.gradient()(x=2.0, y=3.0)
tensor([ 4., 27.])
```

Everything public is re-exported here; the modules behind it are private.
"""

from ._autograd import autograd_function as autograd_function
from ._check import CheckReport as CheckReport
from ._check import CheckRow as CheckRow
from ._check import check as check
from ._docgen import generate_docs as generate_docs
from ._errors import ParseError as ParseError
from ._errors import ShapeError as ShapeError
from ._errors import SpecError as SpecError
from ._errors import SymgradError as SymgradError
from ._errors import UnsupportedFunctionError as UnsupportedFunctionError
from ._errors import VariableError as VariableError
from ._function import Function as Function
from ._function import function as function
from ._parse import parse as parse
from ._spec import load_spec as load_spec

__version__ = "0.1.0"

__all__ = [
    "CheckReport",
    "CheckRow",
    "Function",
    "ParseError",
    "ShapeError",
    "SpecError",
    "SymgradError",
    "UnsupportedFunctionError",
    "VariableError",
    "__version__",
    "autograd_function",
    "check",
    "function",
    "generate_docs",
    "load_spec",
    "parse",
]
