"""A project half way from flytekit to Flyte 2: both SDKs' tasks, checked in one run.

Check it with:

    flyteres check examples/mixed --platform examples/admin.yaml --quota examples/quota.yaml \
        --limitrange examples/limitrange.yaml
"""
