"""The neutral model: quantities, the resource spec, options and findings.

Nothing here knows an SDK or a wire format beyond the generated types; every
converter, the backend replay and the commands build on these modules.
"""
