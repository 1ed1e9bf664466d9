"""Two modules: tasks declared in one, overridden in workflows of the other."""
