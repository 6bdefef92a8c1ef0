"""Fault injection: partitions, loss, slow links, pauses and kills, journaled and always healed.

model (a concrete fault) and shapes (partitions drawn from a seed), schedule (the spec's
schedule made concrete), rules (what active faults mean in one node's namespace), scripts (the
shell that applies them), journal (what is active, on the Docker host), image (the helper
image), executor (apply and heal through an Engine). Pure except image and executor.
"""
