"""How step outputs travel between native tasks: values (inline or by reference) and state.

* :mod:`graflow_core.steps.payload.values` — one channel value as a JSON-able entry: inline
  JSON, an inline signed pickle, or a reference into a signed :class:`ValueStore`;
* :mod:`graflow_core.steps.payload.state` — :class:`StepInputs` / :class:`StepOutput` and how
  the channel state of a step is assembled from its upstream outputs.
"""
