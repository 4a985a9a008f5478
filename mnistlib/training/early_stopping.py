"""Early stopping with Keras's `EarlyStopping(monitor="val_loss", patience=P, restore_best_weights=True)` semantics,
for the engine's own loop, and the sentence that tells a student what it did."""


class EarlyStopping:
    """Tracks the lowest validation loss; after P epochs in a row without a lower one, says stop.

    As Keras: the first epoch is the first best; an epoch is better only if its loss is strictly lower; at the end
    (stopped or not) the best epoch's weights are the ones kept."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_loss = float("inf")
        self.best_epoch = 0  # 1-based; 0 before any epoch
        self.best_weights = None
        self.wait = 0

    def __repr__(self):
        return f"EarlyStopping(patience={self.patience}, best epoch {self.best_epoch}, waited {self.wait})"

    def should_stop(self, epoch: int, val_loss: float, weights) -> bool:
        """After epoch (1-based) with this validation loss and the model's weights then (kept if it is a new best).
        True when training should stop now."""
        self.wait += 1
        if val_loss < self.best_loss or self.best_weights is None:
            self.best_loss, self.best_epoch, self.best_weights, self.wait = val_loss, epoch, weights, 0
            return False
        return self.wait >= self.patience


def outcome_sentence(stopped_epoch: int, best_epoch: int, epochs_requested: int) -> str:
    """What early stopping did, in one sentence: stopped_epoch the last epoch run, best_epoch the one whose weights
    were kept (both 1-based)."""
    if stopped_epoch < epochs_requested:
        return f"Stopped early at epoch {stopped_epoch}; kept the weights of epoch {best_epoch}."
    if best_epoch == stopped_epoch:
        return (f"Early stopping did not stop: the validation loss was lowest at the last epoch ({stopped_epoch}), "
                "so its weights were kept.")
    return (f"Early stopping did not stop before the last epoch ({stopped_epoch}); kept the weights of epoch "
            f"{best_epoch}, which had the lowest validation loss.")
