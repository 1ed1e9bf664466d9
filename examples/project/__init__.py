"""A small flytekit project whose tasks show what a platform does to declared resources.

Check it with: flyteres check examples/project --platform examples/admin.yaml --quota examples/quota.yaml
"""
