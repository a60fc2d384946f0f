"""What a human sees before saying yes: the question, the preview, plans, and approval by page or helper."""
