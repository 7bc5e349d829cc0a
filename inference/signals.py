"""What inference announces to the apps above it, which subscribe without inference knowing them."""

from django.dispatch import Signal

# Sent (by inference.services) when an analysis ends done, failed for good or not assessable, inside
# the transaction that wrote it: receivers queue their work with transaction.on_commit. Arguments:
# `analysis`, and `first_result`, False when the photo already had a done analysis (a new model
# version re-analysing it is not news to anyone).
analysis_finished = Signal()
