"""User step decorators, as Metaflow 2.16+ defines them, run by flowc's runtime.

``@user_step_decorator`` turns a generator function into a decorator: the code
before its ``yield`` runs before the step, the code after it runs after the
step (and sees the step's exception, which it may swallow). A subclass of
``UserStepDecorator`` does the same with ``pre_step`` / ``post_step``. Both are
plain Python that travels with the flow's code, so flowc runs them in every
task, wherever it runs (runtime/task.py calls ``run_step``), with Metaflow's
semantics: outermost decorator first, a decorator may replace the step or skip
it, and what it assigns to ``flow`` is stored like the step's own artifacts.

``StepMutator`` and ``FlowMutator`` change a flow's graph or decorators when
Metaflow loads it, which a compiler that never runs the flow cannot see: the
compiler refuses them (FC740, FC741). They exist here only so that a module
defining one still imports.
"""

from __future__ import annotations

import types

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any, Callable

USER_SKIP_STEP: dict = {}


class UserStepDecoratorError(Exception):
    pass


class UserStepDecorator:
    """Derive from this class and implement ``pre_step`` / ``post_step`` (and
    ``init`` to take keyword arguments)."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._args = args
        self._kwargs = kwargs
        self._my_step: Callable | None = None
        self._ran_init = False
        if args and callable(args[0]) and getattr(_step_of(args[0]), "is_step", False):
            self._args = args[1:]  # bare: @MyDecorator above @step
            self._attach(_step_of(args[0]))
        if self._args:
            raise UserStepDecoratorError(f"{self} takes keyword arguments only")

    # ---- applying it

    def __call__(self, step: Callable | None = None, **_ignored: Any) -> Callable:
        if step is None:
            if self._my_step is None:
                raise UserStepDecoratorError(f"{self} can only be applied to a step")
            return self._my_step
        return self._attach(_step_of(step))

    def _attach(self, step: Callable) -> Callable:
        if not getattr(step, "is_step", False):
            raise UserStepDecoratorError(f"{self} must be above @step")
        self._my_step = step
        wrappers = step.__dict__.setdefault("wrappers", [])
        wrappers.append(self)
        return step

    def __get__(self, instance: Any, owner: type) -> Any:
        # the bare form leaves this object as the class attribute: present as the step
        return self._my_step.__get__(instance, owner)

    def __str__(self) -> str:
        return f"UserStepDecorator({getattr(self, 'decorator_name', type(self).__name__)})"

    # ---- what a user implements

    def init(self, *args: Any, **kwargs: Any) -> None:
        pass

    def external_init(self) -> None:
        if self._ran_init:
            return
        if self._kwargs and "init" not in type(self).__dict__:
            raise UserStepDecoratorError(f"{self} is used with arguments but does not implement init")
        if "init" in type(self).__dict__:
            self.init(**self._kwargs)
        self._ran_init = True

    def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Callable | None:
        return None

    def post_step(self, step_name: str, flow: Any, exception: Exception | None = None) -> Any:
        return (exception, None) if exception else (None, None)

    @property
    def skip_step(self) -> bool | dict:
        return getattr(self, "_skip_step", False)

    @skip_step.setter
    def skip_step(self, value: bool | dict) -> None:
        self._skip_step = value


def _step_of(obj: Any) -> Any:
    return obj._my_step if isinstance(obj, UserStepDecorator) else obj


def user_step_decorator(*args: Any, **kwargs: Any) -> Any:
    """Make a user step decorator of a generator function
    ``(step_name, flow, inputs[, attributes])`` that yields once."""
    if not args:
        return lambda f: user_step_decorator(f, **kwargs)
    import inspect  # here: every task imports this module, few flows decorate their own steps

    gen = args[0]
    if not isinstance(gen, types.FunctionType) or not inspect.isgeneratorfunction(gen):
        raise UserStepDecoratorError("@user_step_decorator can only decorate generator functions")
    arg_count = len(inspect.signature(gen).parameters)
    if arg_count not in (3, 4) or (kwargs and arg_count != 4):
        raise UserStepDecoratorError("@user_step_decorator needs a generator function of (step_name, flow, inputs) "
                                     "or (step_name, flow, inputs, attributes)")

    class Wrap(UserStepDecorator):
        decorator_name = f"{gen.__module__}.{gen.__name__}"

        def init(self, **attributes: Any) -> None:
            self._attributes = attributes

        def pre_step(self, step_name, flow, inputs=None):
            attrs = getattr(self, "_attributes", {})
            self._generator = gen(step_name, flow, inputs, attrs) if arg_count == 4 else gen(step_name, flow, inputs)
            value = self._generator.send(None)
            if isinstance(value, dict):  # skip the step; a non-empty dict holds self.next()'s arguments
                self.skip_step = value if value else True
                return None
            return value

        def post_step(self, step_name, flow, exception=None):
            try:
                if exception is not None:
                    self._generator.throw(exception)
                else:
                    self._generator.send(None)
            except StopIteration as stop:
                return stop.value
            except Exception as exc:
                return exc
            return None, None, UserStepDecoratorError(f"{self} should only yield once")

    Wrap.__name__ = Wrap.__qualname__ = gen.__name__
    Wrap.__module__ = gen.__module__
    Wrap.__doc__ = gen.__doc__
    return Wrap


class StepMutator:
    """Refused by the compiler (FC740): it changes a step when Metaflow loads the flow."""

    def __init__(self, *args: Any, **kwargs: Any):
        if args and callable(args[0]) and getattr(args[0], "is_step", False):
            self._my_step = args[0]

    def __call__(self, step: Callable) -> Callable:
        return step

    def __get__(self, instance: Any, owner: type) -> Any:
        return self._my_step.__get__(instance, owner)

    def init(self, *args: Any, **kwargs: Any) -> None:
        pass

    def pre_mutate(self, mutable_step: Any) -> None:
        return None

    def mutate(self, mutable_step: Any) -> None:
        return None


class FlowMutator:
    """Refused by the compiler (FC741): it changes a flow when Metaflow loads it."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._flow_cls = args[0] if args and isinstance(args[0], type) else None

    def __call__(self, flow_cls: type) -> type:
        return flow_cls

    def init(self, *args: Any, **kwargs: Any) -> None:
        pass

    def pre_mutate(self, mutable_flow: Any) -> None:
        return None

    def mutate(self, mutable_flow: Any) -> None:
        return None


def run_step(func: Callable, flow: Any, inputs: Any, step: Any, retransition: Callable[[Any], None]) -> None:
    """Run a step function inside its user decorators, as Metaflow's task does:
    each ``pre_step`` outermost first, the step (or what a decorator put in its
    place), then each ``post_step`` innermost first. ``retransition(args)`` makes
    the step's own self.next() call (a dict of arguments, or True for the
    compiled one) when a decorator skipped or replaced the step, or swallowed
    its exception."""
    wrappers = list(getattr(func, "wrappers", ()) or ())
    call = (lambda f: f(flow, inputs)) if inputs is not None else (lambda f: f(flow))
    if not wrappers:
        call(func)
        return
    stack: list[UserStepDecorator] = []
    replacement = None
    next_args: Any = None
    raised: Exception | None = None
    had_raised = False
    for w in reversed(wrappers):  # wrappers lists the innermost first
        w.external_init()
        replacement = w.pre_step(step.name, flow, inputs)
        stack.append(w)
        if w.skip_step:
            next_args = w.skip_step
            break
        if replacement:
            break
    try:
        if not next_args:
            if replacement:
                next_args = call(replacement) or None
            else:
                call(func)
    except Exception as exc:
        raised, had_raised = exc, True
    for w in reversed(stack):
        try:
            result = w.post_step(step.name, flow, raised)
        except Exception as exc:
            result = exc
        if result is None:
            raised = None
        elif isinstance(result, Exception):
            raised = result
        elif isinstance(result, tuple) and len(result) == 2:
            raised, next_args = result
        elif isinstance(result, tuple) and len(result) == 3:
            raise result[2]
        else:
            raise UserStepDecoratorError(f"{w}: post_step returned {result!r}; expected an exception or "
                                         "(exception, arguments of self.next)")
    if raised is not None:
        raise raised
    if (next_args is not None and next_args is not False) or had_raised:
        if isinstance(next_args, dict) and next_args:
            retransition(next_args)
        elif next_args is True or next_args == {} or had_raised:
            retransition(True)
        else:
            raise UserStepDecoratorError(f"the arguments of self.next a user decorator gave are not a bool "
                                         f"or a dict: {next_args!r}")
