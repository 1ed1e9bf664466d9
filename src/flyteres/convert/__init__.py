"""Converters between the neutral `ResourceSpec` and every form a user or service meets.

One module per form: `flytekit` (task and override arguments), `flyte`
(`flyte.Resources`), `idl` (protobuf messages of flyteres.v1, flyteidl and
flyteidl2, the one mapping the service uses too), `k8s` (container resources)
and `source` (the SDKs' arguments as Python source text).
"""
