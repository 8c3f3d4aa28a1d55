"""A foreach split's Map state: inline, over the child indices
(States.ArrayRange, at most 1,000 items), or distributed, reading the
runtime's manifest from S3 (any width, no items in any state)."""

from __future__ import annotations

from typing import Any

from flowc.compiler import ir

from ..base import Target, source_ref
from .aws import S3Location
from .scopes import Scope, Scopes, link

ITEM_READER = "arn:aws:states:::s3:getObject"
RESULT_WRITER = "arn:aws:states:::s3:putObject"
INLINE_MAP_LIMIT = 1000  # States.ArrayRange returns at most 1,000 items


class MapStates:
    """The Map half of the state machine builder (machine.py)."""

    t: Target
    flow: ir.Flow
    distributed: bool
    store: S3Location | None

    def map_states(self, step: ir.Step, tail: dict, scope: Scope, scopes: Scopes) -> None:
        """After the split's task (``tail``): the Map over its items, whose
        item processor is the scope the body's entry (``next[0]``) opens."""
        entry = step.next[0]
        body = scopes.open(step, entry)
        states = scope.states
        stack = step.foreach_stack + (step.name,)
        if step.foreach_stack:
            index = "States.Format('{}.{}', $.index, $$.Map.Item.Value)"
        else:
            index = "States.Format('{}', $$.Map.Item.Value)"
        name = f"{step.name}.foreach"
        where = source_ref(self.flow, step.next_span or step.span)
        the_map: dict[str, Any] = {"Type": "Map"}
        if self.distributed:
            tail["Next"] = name
            the_map["Comment"] = (f"one child execution per item of self.{step.foreach} ({where}); the items are "
                                  "the runtime's manifest in S3, so no state ever holds them")
            the_map["ItemReader"] = {
                "Resource": ITEM_READER,
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": self.store.bucket,
                               "Key.$": self.datastore_key(step, "foreach.json")},
            }
        else:
            tail["Next"] = f"{step.name}.width"
            states.update(self.width_states(step, next_state=name))
            the_map["Comment"] = f"one iteration per item of self.{step.foreach} ({where})"
            the_map["ItemsPath"] = "$.out.items"
        the_map["ItemSelector"] = self.scope_data("$.run_id", index, stack)
        if self.t.option("max_concurrency"):
            the_map["MaxConcurrency"] = self.t.option("max_concurrency")
        processor: dict[str, Any] = {"Mode": "INLINE"}
        if self.distributed:
            processor = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        the_map["ItemProcessor"] = {"ProcessorConfig": processor, "StartAt": entry, "States": body.states}
        if self.distributed:
            the_map["ResultWriter"] = {
                "Resource": RESULT_WRITER,
                "Parameters": {"Bucket": self.store.bucket,
                               "Prefix": f"{self.store.prefix}{self.flow.name}/stepfunctions/map-results"},
            }
            the_map["ResultPath"] = None
        else:
            # the iterations' outputs are {} each; keep only their number
            the_map["ResultSelector"] = {"joined.$": "States.ArrayLength($)"}
            the_map["ResultPath"] = "$.out"
        states[name] = the_map
        link(the_map, step.matching_join, scope.stop)

    @staticmethod
    def width_states(step: ir.Step, next_state: str) -> dict[str, dict]:
        """An inline Map's items: the child indices 0..count-1, or a Fail
        state naming the step when there are more than an inline Map takes."""
        return {
            f"{step.name}.width": {
                "Type": "Choice",
                "Comment": f"an inline Map takes at most {INLINE_MAP_LIMIT} items (the runtime refuses none)",
                "Choices": [
                    {"Variable": "$.out.count", "NumericGreaterThan": INLINE_MAP_LIMIT,
                     "Next": f"{step.name}.too_wide"},
                ],
                "Default": f"{step.name}.items",
            },
            f"{step.name}.too_wide": {
                "Type": "Fail",
                "Comment": "States.ArrayRange stops at 1,000 items",
                "Error": "flowc.ForeachTooWide",
                "Cause": f"the foreach in step {step.name} has more than {INLINE_MAP_LIMIT} items, more than an "
                         "inline Map takes; compile with --foreach-mode distributed",
            },
            f"{step.name}.items": {
                "Type": "Pass",
                "Comment": "the child indices 0..count-1 (small: at most 1,000 numbers)",
                "Parameters": {"items.$": "States.ArrayRange(0, States.MathAdd($.out.count, -1), 1)"},
                "ResultPath": "$.out",
                "Next": next_state,
            },
        }

    # provided by the builder (machine.py) and the task half (tasks.py)
    def scope_data(self, run_id_path: str, index_expr: str | None, stack: tuple[str, ...]) -> dict:
        raise NotImplementedError

    def datastore_key(self, step: ir.Step, filename: str) -> str:
        raise NotImplementedError
