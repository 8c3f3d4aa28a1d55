"""Run compiled Prefect flows in another Prefect release (the Python running
this file): reads [[folder, flow function, parameters], ...] as JSON on
stdin, runs each with Prefect's own loader against one temporary server, and
prints one JSON line per flow: its flow run id, final state and Prefect's
version. Imports only Prefect and the standard library."""

import json
import sys


def main() -> int:
    import prefect
    from prefect.flows import load_flow_from_entrypoint

    for folder, func, params in json.load(sys.stdin):
        flow = load_flow_from_entrypoint(f"{folder}/prefect_flow.py:{func}")
        state = flow(**params, return_state=True)
        print(json.dumps({"run_id": str(state.state_details.flow_run_id), "state": state.type.value,
                          "message": state.message, "prefect": prefect.__version__}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
