"""`flowc ui`: a small read-only web server over a datastore.

Only ``address`` is imported outside the server (by `flowc run`, to print a
run's page): it needs nothing but the standard library and the runtime. The
rest needs the ``ui`` extra (Starlette, uvicorn).
"""
