"""flytekit's `>>` in a workflow that becomes a Flyte 2 driver task.

In a flytekit workflow (or `@dynamic`), `a >> b` only adds an ordering edge
(flytekit 1.16's `Promise.__rshift__`, `VoidPromise.__rshift__` and
`Node.__rshift__` call `a`'s node `runs_before(b's node)` and return `b`, so
`a >> b >> c` orders a before b and b before c). A synchronous driver task calls
its tasks one at a time in the order its body is written, so every edge whose
left side the driver calls before its right side already holds, and the `>>`
can go. `plan_ordering` decides that from the `ast` and says why not otherwise;
`drop_ordering` edits the driver's libcst tree as planned.

Each `>>` statement is removed; the calls written as its operands
(`t1() >> t2()`) stay, in the same order, one statement each; a name bound
to a call only so that `>>` could order it (`x = t()`, used nowhere else)
becomes the bare call `t()`, so the driver adds no unused name.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import libcst as cst

from flyteres.migrate.cst_edits import comment_lines, lost_comments
from flyteres.migrate.driver_bodies import without_overrides
from flyteres.source.names import ModuleNames

__all__ = ["Ordering", "drop_ordering", "plan_ordering"]

# flytekit constructs a `>>` may order that a Flyte 2 driver does not call, by the name flytekit exports.
_NOT_CALLS = {
    "create_node": "a node from create_node, which the driver has no form for",
    "approve": "a gate node from approve, which the driver has no form for",
    "sleep": "a gate node from sleep, which the driver has no form for",
    "wait_for_input": "a gate node from wait_for_input, which the driver has no form for",
}


@dataclass(frozen=True)
class Ordering:
    """What `drop_ordering` edits, by index in the function body (as `ast` counts statements):
    the `>>` statements to remove (with, for each, which of its operands, in order, are
    calls to keep as statements), and the assignments to write as bare calls."""

    statements: dict[int, tuple[bool, ...]]
    bare: frozenset[int]


def _chain(expr: ast.expr, leaves: list[ast.expr], edges: list[tuple[int, int]]) -> int:
    """Flatten a `>>` expression: its operands left to right into `leaves`, each ordering
    edge as (index of left, index of right) into `edges`; the answer is the operand the
    expression stands for (flytekit's `>>` returns its right side)."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.RShift):
        left = _chain(expr.left, leaves, edges)
        right = _chain(expr.right, leaves, edges)
        edges.append((left, right))
        return right
    leaves.append(expr)
    return len(leaves) - 1


def _call(expr: ast.expr) -> ast.Call | None:
    """The call that runs a task in `expr`: `t(...)` itself, or `t(...)` under `.with_overrides(...)`."""
    call = without_overrides(expr)
    return call if isinstance(call, ast.Call) else None


def _code(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    a = function.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None)]
    return {p.arg for p in every}


def _stores(function: ast.AST) -> Iterator[ast.Name]:
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            yield node


class _RefusedError(Exception):
    """Why the `>>` of a workflow cannot be dropped (its text is the reason)."""


class _Planner:
    def __init__(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        calls: Callable[[], Collection[tuple[int, int]]],
        names: ModuleNames,
        *,
        values: bool = False,
    ) -> None:
        self.function, self.names, self.values = function, names, values
        self._calls = calls
        self.calls: Collection[tuple[int, int]] = ()
        self.index = {id(s): i for i, s in enumerate(function.body)}
        self.parents = {id(c): p for p in ast.walk(function) for c in ast.iter_child_nodes(p)}
        self.operands: set[int] = set()  # id() of the names `>>` orders, which go with their statements

    def driver_call(self, expr: ast.expr) -> ast.Call | None:
        call = _call(expr)
        return call if call is not None and (call.lineno, call.col_offset) in self.calls else None

    def not_a_call(self, expr: ast.expr) -> str:
        """What `expr` (an operand, or the value of a name one orders) is, when the driver does not call it."""
        call = _call(expr)
        if call is None:
            return f"{_code(expr)}, which is not a call of a task or workflow"
        func: ast.expr = call.func
        while isinstance(func, ast.Call):  # LaunchPlan.get_or_create(...)(...)
            func = func.func
        qualified = self.names.qualified(func) or ""
        head, _, tail = qualified.partition(".")
        if head in ("flytekit", "union", "unionai"):
            short = tail.rpartition(".")[2]
            if short in _NOT_CALLS:
                return _NOT_CALLS[short]
            if "LaunchPlan" in qualified:
                return "a launch plan, which the driver has no form for"
        return (
            f"a call of {_code(func)}, which is not a task or workflow of this module or one the run moves to Flyte 2"
        )

    def shifts_inputs(self, chain: ast.expr) -> bool:
        """Whether every operand of `chain` is a constant or an input the body never binds again
        (in a `@dynamic` those are values, and `>>` shifts them)."""
        leaves: list[ast.expr] = []
        _chain(chain, leaves, [])
        stored = {n.id for n in _stores(self.function)}
        inputs = _parameters(self.function) - stored
        return all(
            isinstance(leaf, ast.Constant) or (isinstance(leaf, ast.Name) and leaf.id in inputs) for leaf in leaves
        )

    def lone(self, stmt: ast.stmt, what: str) -> None:
        """`stmt` must be alone on its lines (the edit replaces whole lines)."""
        i = self.index[id(stmt)]
        body = self.function.body
        before = body[i - 1] if i > 0 else None
        after = body[i + 1] if i + 1 < len(body) else None
        if (before is not None and (before.end_lineno or 0) >= stmt.lineno) or (
            after is not None and after.lineno <= (stmt.end_lineno or stmt.lineno)
        ):
            raise _RefusedError(f"{what} (line {stmt.lineno}) shares its line with another statement; split it first")

    def binding(self, name: ast.Name, at: int, line: int) -> tuple[int, ast.Assign]:
        """Where the name a `>>` orders (in the statement at index `at`) is bound to a call the driver makes."""
        where = f"`>>` (line {line}): {name.id}"
        if name.id in _parameters(self.function):
            raise _RefusedError(f"{where} is an input of the workflow, not a call of a task or workflow")
        stores = [s for s in _stores(self.function) if s.id == name.id]
        if not stores:
            raise _RefusedError(f"{where} is not bound in the workflow, so it is no call the driver makes")
        if len(stores) > 1:
            raise _RefusedError(f"{where} is bound more than once in the workflow; bind it once to one call")
        stmt = self.parents.get(id(stores[0]))
        while isinstance(stmt, ast.Tuple | ast.List):
            stmt = self.parents.get(id(stmt))
        if not isinstance(stmt, ast.Assign) or id(stmt) not in self.index:
            raise _RefusedError(f"{where} is not bound by a plain `{name.id} = ...` of the workflow body itself")
        if self.driver_call(stmt.value) is None:
            raise _RefusedError(f"{where} is bound to {self.not_a_call(stmt.value)}")
        if self.index[id(stmt)] >= at:
            raise _RefusedError(f"{where} is bound after the `>>` that orders it")
        return self.index[id(stmt)], stmt

    def statement(self, stmt: ast.Expr, at: int) -> tuple[tuple[bool, ...], list[ast.Assign]]:
        """The operands of the `>>` statement at index `at` that are calls, and the assignments
        of the names it orders; refused when an edge goes backwards."""
        self.lone(stmt, "a `>>` statement")
        leaves: list[ast.expr] = []
        edges: list[tuple[int, int]] = []
        _chain(stmt.value, leaves, edges)
        # Where the driver calls each operand: (statement index, order within it).
        positions: list[tuple[int, int]] = []
        lines: list[int] = []
        bound: list[ast.Assign] = []
        calls: list[bool] = []
        for k, leaf in enumerate(leaves):
            if isinstance(leaf, ast.Name):
                index, assign = self.binding(leaf, at, stmt.lineno)
                self.operands.add(id(leaf))
                positions.append((index, 0))
                lines.append(assign.lineno)
                bound.append(assign)
                calls.append(False)
            elif self.driver_call(leaf) is not None:
                positions.append((at, k))
                lines.append(leaf.lineno)
                calls.append(True)
            else:
                raise _RefusedError(f"`>>` (line {stmt.lineno}) orders {self.not_a_call(leaf)}")
        for left, right in edges:
            if positions[left] >= positions[right]:
                a, b = _code(leaves[left]), _code(leaves[right])
                raise _RefusedError(
                    f"`{a} >> {b}` (line {stmt.lineno}) orders {b} (called at line {lines[right]}) after {a} "
                    f"(line {lines[left]}), but the driver runs its calls in the order written; "
                    "reorder the calls by hand first"
                )
        return tuple(calls), bound

    def plan(self) -> Ordering | None:
        chains = [
            n
            for n in ast.walk(self.function)
            if isinstance(n, ast.BinOp)
            and isinstance(n.op, ast.RShift)
            and not (isinstance(p := self.parents.get(id(n)), ast.BinOp) and isinstance(p.op, ast.RShift))
        ]
        if not chains:
            return None
        if self.values:  # a shift of values orders nothing, and stays as written
            chains = [c for c in chains if not self.shifts_inputs(c)]
            if not chains:
                return None
        self.calls = self._calls()
        statements: dict[int, tuple[bool, ...]] = {}
        assignments: dict[int, ast.Assign] = {}
        for chain in sorted(chains, key=lambda n: (n.lineno, n.col_offset)):
            holder = self.parents.get(id(chain))
            if not isinstance(holder, ast.Expr):
                raise _RefusedError(
                    f"`>>` (line {chain.lineno}) is used as a value (flytekit's `>>` returns its right side); "
                    "only a `>>` statement of its own can be dropped"
                )
            at = self.index.get(id(holder))
            if at is None:
                raise _RefusedError(
                    f"`>>` (line {chain.lineno}) is inside a block; only `>>` statements of the workflow body "
                    "itself can be dropped"
                )
            statements[at], bound = self.statement(holder, at)
            assignments.update((self.index[id(a)], a) for a in bound)
        # The names still read once the `>>` statements are gone (the calls they hold stay).
        read = {
            n.id
            for n in ast.walk(self.function)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in self.operands
        }
        bare: set[int] = set()
        for index, assign in assignments.items():
            targets = [n.id for t in assign.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            if not any(t in read for t in targets):
                self.lone(assign, "an assignment `>>` orders")
                bare.add(index)
        return Ordering(statements, frozenset(bare))


def plan_ordering(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    calls: Callable[[], Collection[tuple[int, int]]],
    names: ModuleNames,
    *,
    values: bool = False,
) -> Ordering | str | None:
    """How the `>>` of a workflow or `@dynamic` that becomes a driver task go (None: it has none),
    or why they cannot. `calls` gives (line, column) of each call of a task or workflow the
    driver makes (`flyteres.source.analysis.SourceModule.task_calls`); it is asked only when
    there is a `>>`. With `values` (a `@dynamic`, whose inputs are Python values), a `>>` of
    inputs and constants only is a shift and stays."""
    try:
        return _Planner(function, calls, names, values=values).plan()
    except _RefusedError as refused:
        return str(refused)


def _operands(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.RightShift):
        yield from _operands(expr.left)
        yield from _operands(expr.right)
    else:
        yield expr


def _comments(line: cst.SimpleStatementLine) -> list[cst.EmptyLine]:
    """The comments of a statement the edit removes: those above it, and the one after it."""
    out = list(line.leading_lines)
    trailing = line.trailing_whitespace.comment
    if trailing is not None:
        out.append(cst.EmptyLine(indent=True, comment=trailing))
    return out


def _after(lines: list[cst.EmptyLine], stmt: cst.BaseStatement) -> cst.BaseStatement:
    """`stmt` with `lines` above its own leading lines."""
    if not lines or not isinstance(stmt, cst.SimpleStatementLine | cst.BaseCompoundStatement):
        return stmt
    return stmt.with_changes(leading_lines=[*lines, *stmt.leading_lines])


def drop_ordering(function: cst.FunctionDef, ordering: Ordering) -> cst.FunctionDef:
    """`function` with its `>>` statements and the names bound only for them gone, as planned."""
    body = function.body
    assert isinstance(body, cst.IndentedBlock)
    out: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []  # comments of a removed statement, for the next one
    index = 0
    for stmt in body.body:
        count = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        here, index = index, index + count
        edited = here in ordering.statements or here in ordering.bare
        if not edited or not isinstance(stmt, cst.SimpleStatementLine):
            out.append(_after(carried, stmt))
            carried = []
            continue
        assert count == 1
        small = stmt.body[0]
        if here in ordering.bare:
            assert isinstance(small, cst.Assign)
            out.append(_after(carried, stmt.with_changes(body=[cst.Expr(small.value)])))
            carried = []
            continue
        assert isinstance(small, cst.Expr)
        keep = [
            operand.with_changes(lpar=(), rpar=())
            for operand, is_call in zip(_operands(small.value), ordering.statements[here], strict=True)
            if is_call
        ]
        # Comments written between the operands go above what stays.
        inside = comment_lines(lost_comments(small, cst.Module([cst.SimpleStatementLine([cst.Expr(k)]) for k in keep])))
        if not keep:
            carried += [*_comments(stmt), *inside]
            continue
        for n, operand in enumerate(keep):
            last = n == len(keep) - 1
            new = cst.SimpleStatementLine(
                body=[cst.Expr(operand)],
                leading_lines=[*stmt.leading_lines, *inside] if n == 0 else (),
                trailing_whitespace=stmt.trailing_whitespace if last else cst.TrailingWhitespace(),
            )
            out.append(_after(carried, new))
            carried = []
    footer = [*carried, *body.footer] if carried else body.footer
    return function.with_changes(body=body.with_changes(body=out, footer=footer))
