"""The pure core: rendering, images (content hashes), desired state, plan. No I/O to Docker."""
