"""Reading task resource declarations out of Python source, without importing it.

Used by `flyteres check` and `flyteres migrate` alike.
"""
