"""clusterdeploy: declarative test clusters of Docker containers, on pyinfra."""
