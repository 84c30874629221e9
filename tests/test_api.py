"""The public surface: what `import symgrad` offers, and the layering behind it."""

from __future__ import annotations

import ast
import pathlib

import pytest
import torch

import symgrad as sg

PACKAGE = pathlib.Path(sg.__file__).parent
CONTRACT_NAMES = {
    "parse",
    "function",
    "Function",
    "check",
    "CheckReport",
    "autograd_function",
    "ParseError",
    "SymgradError",
    "UnsupportedFunctionError",
    "VariableError",
}


def test_contract_names_are_exported():
    """Every name the contract fixes is importable from the top level."""
    assert CONTRACT_NAMES <= set(sg.__all__)
    for name in sg.__all__:
        assert hasattr(sg, name), name


def test_all_is_sorted_and_init_defines_nothing():
    """__all__ is sorted and __init__ only re-exports (no def or class of its own)."""
    assert list(sg.__all__) == sorted(sg.__all__)
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    assert not [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]


def test_error_tree():
    """Each domain error subclasses the root and the fitting built-in."""
    assert issubclass(sg.ParseError, sg.SymgradError) and issubclass(sg.ParseError, ValueError)
    assert issubclass(sg.UnsupportedFunctionError, NotImplementedError)
    assert issubclass(sg.VariableError, KeyError) and issubclass(sg.VariableError, ValueError)
    assert issubclass(sg.ShapeError, ValueError) and issubclass(sg.SpecError, ValueError)


def _module_level_imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", ["_errors", "_parse", "_function", "_engine", "_steps"])
def test_torch_stays_out_of_the_parser_and_the_symbolic_core(module):
    """The parser and the symbolic core never import torch at module level."""
    assert "torch" not in _module_level_imports(PACKAGE / f"{module}.py")


def test_errors_module_imports_nothing_from_symgrad():
    """_errors is the bottom layer."""
    tree = ast.parse((PACKAGE / "_errors.py").read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]


def test_cli_uses_only_the_public_api():
    """cli/ imports `symgrad`, never its private modules."""
    cli = PACKAGE.parent / "cli"
    for path in cli.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("symgrad._"), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("symgrad._") for a in node.names), path


def test_nothing_calls_eval_on_user_text():
    """The only exec is the code generator's, on source it generated itself."""
    for path in PACKAGE.glob("*.py"):
        source = path.read_text()
        calls = [
            n.func.id
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id in {"eval", "exec", "sympify", "parse_expr"}
        ]
        expected = ["exec"] if path.name == "_codegen.py" else []
        assert calls == expected, path


def test_indexing_a_vector_function_gives_one_output():
    """f[i] is output i over the same variables; rows of a Jacobian are gradients."""
    f = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    assert f.shape == (4,) and len(f) == 4
    first = f[0]
    assert first.shape == () and first.variables == f.variables
    assert str(f[2]) == "x[0] + y[0]"
    assert f.jacobian()[0].outputs == f[0].gradient().outputs
    assert f.jacobian()[-1] == f[3].gradient()
    with pytest.raises(IndexError):
        f[4]
    with pytest.raises(sg.ShapeError):
        sg.function("x")[0]


def test_value_and_gradient_is_one_fused_function():
    """value_and_gradient stacks f and its gradient: one kernel computes both."""
    f = sg.function("sin(x*y) + x**2")
    fused = f.value_and_gradient()
    assert fused.shape == (3,)
    x, y = torch.tensor([0.3, 1.2]), torch.tensor([2.0, -1.0])
    values = fused(x=x, y=y)
    assert torch.allclose(values[..., 0], f(x=x, y=y))
    assert torch.allclose(values[..., 1:], f.gradient()(x=x, y=y))
    assert fused.to_torch().source.count("torch.sin(") == 1


def test_hessian_of_a_vector_function_names_the_hessian():
    """The error for a vector Hessian talks about the Hessian, not the gradient."""
    with pytest.raises(sg.ShapeError, match="hessian needs a scalar"):
        sg.function(["x", "y"]).hessian()
