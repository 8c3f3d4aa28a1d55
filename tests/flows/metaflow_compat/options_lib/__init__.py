"""The team's own step decorators, shared by its flows (not a flow)."""
