"""Read deployment triggers with another Prefect release (the Python running
this file): reads [[trigger, [[event name, payload], ...]], ...] as JSON on
stdin; for each, prints one JSON line: the DeploymentTrigger model Prefect
makes of it, the type of the automation it becomes, and the parameters
Prefect's hydration renders for those events (the last one the firing's
``event``). Imports only Prefect and the standard library."""

import datetime
import json
import sys
import uuid


def main() -> int:
    import prefect
    from pydantic import TypeAdapter
    from prefect.events.schemas.automations import AutomationCore
    from prefect.events.schemas.deployment_triggers import DeploymentTriggerTypes
    from prefect.server.events.jinja_filters import all_filters
    from prefect.server.events.schemas.events import ReceivedEvent
    from prefect.server.utilities.user_templates import register_user_template_filters
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    register_user_template_filters(all_filters)
    for spec, fired in json.load(sys.stdin):
        model = TypeAdapter(DeploymentTriggerTypes).validate_python(spec)
        model.set_deployment_id(uuid.uuid4())
        automation = AutomationCore.model_validate(model.as_automation().model_dump())
        events = [ReceivedEvent(id=uuid.uuid4(), occurred=datetime.datetime.now(datetime.timezone.utc), event=name,
                                resource={"prefect.resource.id": "flowc.external"}, payload=payload)
                  for name, payload in fired]
        context = HydrationContext(render_jinja=True, raise_on_error=True,
                                   jinja_context={"event": events[-1], "events": events})
        rendered = hydrate(json.loads(json.dumps(spec["parameters"])), context)
        print(json.dumps({"model": type(model).__name__, "automation": automation.trigger.type,
                          "parameters": rendered, "prefect": prefect.__version__}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
