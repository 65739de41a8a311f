"""Machine learning on contacts: intent triage (`intent`), predicted CSAT and repeat-contact risk
(`contact_models`, on the features of `features`), and the one store of their versioned artefacts (`artefacts`)."""

# The intent of a conversation nobody labelled and the model could not name.
UNKNOWN_INTENT = "unknown"


class NotEnoughLabels(ValueError):
    """Raised when the labelled rows are too few (or of too few classes) to train and evaluate a model."""
