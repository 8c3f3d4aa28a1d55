"""`flowc worker --queue URL`: serve the tasks a Step Functions state machine
compiled with `--mode worker` sends to an SQS queue (runtime/worker.py)."""

from __future__ import annotations

import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queue", required=True, metavar="URL", help="the SQS queue URL the state machine sends tasks to")
    p.add_argument("--workdir", default=".", help="folder the tasks run in (where --flow and --ir paths resolve)")
    p.add_argument("-j", "--concurrency", type=int, default=1, help="tasks run at once (default: 1)")
    p.add_argument("--visibility-timeout", type=int, default=120, metavar="SECONDS",
                   help="how long a received task stays hidden from other workers; kept extended while it "
                        "runs, so a dead worker's task returns after at most this long (default: 120)")
    p.add_argument("--wait-seconds", type=int, default=10, help="long-poll wait for a message (0-20, default: 10)")
    p.add_argument("--idle-exit", type=float, metavar="SECONDS", help="stop after this long without a task")
    p.add_argument("--max-tasks", type=int, help="stop after taking this many tasks")
    p.add_argument("--region", help="AWS region (default: from the environment or the queue URL)")
    p.add_argument("--endpoint-url", help="AWS endpoint (default: AWS_ENDPOINT_URL or AWS's own)")


def main(args: argparse.Namespace) -> int:
    from flowc.runtime import worker

    return worker.main(args.queue, workdir=args.workdir, concurrency=args.concurrency,
                       visibility_timeout=args.visibility_timeout, wait_seconds=args.wait_seconds,
                       idle_exit=args.idle_exit, max_tasks=args.max_tasks, region=args.region,
                       endpoint_url=args.endpoint_url)
