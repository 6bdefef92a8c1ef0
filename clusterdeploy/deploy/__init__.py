"""The pyinfra layer: the fact, one operation per apply phase, converge, inventory."""
