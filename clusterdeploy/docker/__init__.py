"""Docker access: observation, command builders, engine errors, the lifecycle engine."""
