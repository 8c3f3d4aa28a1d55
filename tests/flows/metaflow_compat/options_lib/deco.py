"""Step decorators the team wrote once and puts on many steps.

Metaflow 2.16+ user step decorators: plain Python that runs around a step,
in every task, wherever the step runs.
"""

from flowc import USER_SKIP_STEP, UserStepDecorator, user_step_decorator


@user_step_decorator
def audited(step_name, flow, inputs):
    """Record that the step ran under audit, before and after its body."""
    flow.audit_trail = [f"enter {step_name}"]
    yield
    flow.audit_trail = flow.audit_trail + [f"leave {step_name}"]


@user_step_decorator
def tagged(step_name, flow, inputs, attributes):
    """Label what the step produced, e.g. @tagged(label="scored")."""
    yield
    flow.label = f"{attributes.get('label', 'untagged')}:{step_name}"


@user_step_decorator
def forgiving(step_name, flow, inputs):
    """A ValueError of the step is kept as an artifact and the flow goes on."""
    try:
        yield
    except ValueError as exc:
        flow.forgiven = str(exc)


@user_step_decorator
def unless(step_name, flow, inputs, attributes):
    """Skip the step when the flag parameter named by `flag` is set."""
    if getattr(flow, attributes["flag"]):
        flow.skipped = True
        yield USER_SKIP_STEP
    else:
        flow.skipped = False
        yield


class CountInputs(UserStepDecorator):
    """The class form: counts a join's inputs before the step runs."""

    def pre_step(self, step_name, flow, inputs=None):
        flow.input_count = len(list(inputs)) if inputs is not None else 0

    def post_step(self, step_name, flow, exception=None):
        flow.counted_by = type(self).__name__
        return (exception, None) if exception else (None, None)
