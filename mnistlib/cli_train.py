"""`python -m mnistlib train` (and `continue MODEL_ID --epochs N`): train in the trainer's worker, follow its progress
(rich), then print the last epoch's training and validation accuracy (choose by validation) before the test figures."""

import sys

from mnistlib import cli_lab, datasets


def command_train(arguments) -> int:
    from mnistlib import dataset_reorder
    from mnistlib.models import ModelSpec
    from mnistlib.training import TrainRequest, get_trainer

    dataset_reorder.reorder_all()  # an own dataset stored before the stratified order gets it first, as the app does
    spec = ModelSpec(
        architecture=arguments.arch, hidden_units=arguments.units, hidden_layers=arguments.layers,
        dropout=arguments.dropout, optimizer=arguments.optimizer, learning_rate=arguments.learning_rate,
        batch_size=arguments.batch_size, validation_split=arguments.validation_split, seed=arguments.seed,
    )
    request = TrainRequest(dataset=arguments.dataset, spec=spec, epochs=arguments.epochs,
                           subset=arguments.subset, name=arguments.name, **cli_lab.request_settings(arguments))
    job = get_trainer().submit(request, owner=_owner(arguments.student))
    return _report(job, f"Training {datasets.info(arguments.dataset).title}: {spec.describe()}, {arguments.epochs} "
                        f"epochs{cli_lab.describe(request)}")


def command_continue(arguments) -> int:
    """Train a stored model for --epochs more epochs, from its weights and optimizer state (One more epoch on the
    Train page): a new model that names it as its parent and keeps its whole history."""
    from mnistlib import dataset_reorder, store
    from mnistlib.training import continuing, get_trainer

    dataset_reorder.reorder_all()  # as train does: the parent's own dataset in the order the app trains on
    request = continuing.continuation(arguments.model_id, arguments.epochs, name=arguments.name)
    _check_data(request)  # before anything is queued: a missing dataset is one line, not a failed training
    parent = store.load_card(arguments.model_id)
    job = get_trainer().submit(request, owner=_owner(arguments.student))
    return _report(job, f"Continuing {parent.name} ({arguments.model_id}, {parent.epochs_run} epochs) for "
                        f"{arguments.epochs} more epoch{'' if arguments.epochs == 1 else 's'}",
                   again="Continue it for another number of epochs for a different model.")


def _check_data(request) -> None:
    """ValueError (one sentence) when the request's data cannot be read here, so nothing is queued."""
    entry = datasets.info(request.dataset)
    if (request.subset == "full" or entry.custom) and not datasets.is_fetched(request.dataset):
        fix = f"Run: {datasets.fetch_command(request.dataset)}" if not entry.custom else \
            datasets.repair_hint(request.dataset)
        raise ValueError(f"{entry.title}, the data this model was trained on, is missing here. {fix}")


def _report(job, announcement: str, again: str = "Use another --seed for a different run.") -> int:
    """Print what is trained, follow the job's progress, then its figures and model id; 1 if nothing was kept.
    again: what to do for another model when an identical one is already stored."""
    from mnistlib.training import get_trainer

    if job.snapshot().reused:
        print(f"Already trained exactly this (model {job.snapshot().model_id}): the same data, settings and seed give "
              f"the same model, so it was not trained again. {again}")
    else:
        print(f"{announcement}, on {get_trainer().backend.description}")
    try:
        state = _follow(job)
    except KeyboardInterrupt:
        print("\nStopping: the model of the last finished epoch is kept.", file=sys.stderr)
        job.stop()
        state = job.wait()
    if state.status == "failed":
        raise RuntimeError(state.message)
    if state.model_id is None:
        print("Stopped before the first epoch finished: nothing was saved.")
        return 1
    last = state.history[-1]
    validation = (f", validation accuracy {last['val_accuracy']:.2%}" if last.get("val_accuracy") is not None
                  else " (no validation split)")
    # Choose by validation: it comes first; the test figure is the final check.
    print(f"last epoch: training accuracy {last['accuracy']:.2%}{validation}")
    if state.status == "finished" and state.message and not state.reused:  # what early stopping did
        print(state.message)
    print(f"test accuracy {state.test_accuracy:.2%}, test loss {state.test_loss:.4f}")
    parent = f"; it continues model {job.request.parent}" if job.request.parent else ""
    print(f"model id {state.model_id} ({state.status}, {len(state.history)} epochs{parent})")
    return 0


def _owner(student: str | None):
    """Whose list the model goes to: --student NAME (the CLI runs on the server, so it is trusted), else the
    teacher's."""
    from mnistlib import names, store

    if student is None:
        return store.TEACHER
    display = names.clean(student, 40, "--student")
    return store.Actor(names.key(display), display)


def _follow(job):
    """Show a job's progress on stderr until it ends (rich: a live bar in a terminal; piped to a file or a CI
    log, no redrawing, only the final line); returns its final state."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TextColumn("{task.fields[figures]}"))
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task("starting", total=1000, figures="")
        while True:
            state = job.snapshot()
            if state.status in ("finished", "stopped", "failed"):
                if state.history and state.epochs:  # the bar ends on the last finished epoch, however short it was
                    last = state.history[-1]
                    progress.update(task, completed=1000 * len(state.history) / state.epochs,
                                    description=f"epoch {len(state.history)}/{state.epochs}",
                                    figures=f"loss {last['loss']:.4f} acc {last['accuracy']:.3f}")
                return state
            if state.status == "queued":
                progress.update(task, description=f"queued: {state.queue_position} ahead")
            elif state.batches:
                done = (state.epoch - 1 + state.batch / state.batches) / state.epochs
                last = state.progress[-1] if state.progress else {}
                progress.update(task, completed=int(done * 1000), description=f"epoch {state.epoch}/{state.epochs}",
                                figures=f"loss {last.get('loss', float('nan')):.4f} "
                                        f"acc {last.get('accuracy', float('nan')):.3f}")
            time.sleep(0.2)
