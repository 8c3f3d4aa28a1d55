"""AWS Step Functions: the flow as a state machine (Amazon States Language),
its steps as AWS Batch jobs or `flowc worker` tasks (see target.py).

The package, one concern per file:

    target.py     this class: capabilities, options, the files a compile writes
    checks.py     what the capability table cannot say (option combinations...)
    names.py      the state machine's and the job definitions' names (@project)
    machine.py    the state machine: each step's states, in one pass over the flow
    scopes.py     which States block a step goes in (top, Parallel branch, Map)
    tasks.py      one step's Task state (and the states reading its outcome)
    maps.py       a foreach split's Map state (inline or distributed)
    choices.py    a switch's Choice state, its Default Fail state, a loop's counter
    batch.py      one step's AWS Batch job definition (over targets/aws_batch.py)
    events.py     @trigger / @trigger_on_finish: the EventBridge rule and the first states
    stack.py      the @schedule schedule, the rule's files and the CloudFormation template
    cron.py, aws.py   cron lines; names, S3 locations and JSON AWS accepts
    jsontext.py   JSON text written without recursion
"""

from .aws import INTRINSIC_SPECIAL, aws_name, dumps, intrinsic_string, logical_id, s3_location
from .cron import CronError, aws_cron
from .machine import StateMachineBuilder
from .names import Names
from .target import StepFunctions

__all__ = ["StepFunctions", "Names", "StateMachineBuilder", "CronError", "aws_cron", "INTRINSIC_SPECIAL",
           "aws_name", "dumps", "intrinsic_string", "logical_id", "s3_location"]
