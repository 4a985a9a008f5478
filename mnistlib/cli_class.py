"""The teacher's commands: challenges, revealing test accuracy, and the class's results as CSV. The command line
runs on the server, as its owner, so it acts as the teacher."""

import sys

from mnistlib import challenges, datasets, gradebook, students
from mnistlib.store import TEACHER


def command_challenge_set(arguments) -> int:
    challenge = challenges.set_challenge(
        TEACHER, title=arguments.title, dataset=arguments.dataset,
        min_validation_accuracy=arguments.min_validation_accuracy, max_parameters=arguments.max_parameters,
        max_epochs=arguments.max_epochs, max_train_images=arguments.max_train_images,
        max_seconds=arguments.max_seconds, closes=arguments.closes)
    print(f"Challenge {challenge.id} set on {datasets.info(challenge.dataset).title}: {challenge.title} — "
          f"{challenge.goal()}")
    return 0


def command_challenge_list(arguments) -> int:
    found = challenges.all_challenges()
    if not found:
        print("No challenge yet: python -m mnistlib challenge set --title T --dataset mnist "
              "--min-validation-accuracy 0.97")
    for challenge in found:
        state = "active" if challenge.is_active else f"ended {challenge.ended[:16].replace('T', ' ')} UTC"
        print(f"{challenge.id:>3}  {challenge.dataset:<13} {state:<26} {challenge.title} — {challenge.goal()}")
    return 0


def command_challenge_end(arguments) -> int:
    running = challenges.all_active()
    if arguments.id is not None:
        chosen = [challenge for challenge in running if challenge.id == arguments.id]
    elif arguments.dataset is not None:
        chosen = [challenge for challenge in running if challenge.dataset == arguments.dataset]
    else:
        chosen = running
    if not chosen:
        raise ValueError("No active challenge matches: see python -m mnistlib challenge list.")
    if len(chosen) > 1:
        raise ValueError(f"{len(chosen)} challenges are active: say which with --dataset or --id.")
    ended = challenges.end(TEACHER, chosen[0].id)
    print(f"Ended challenge {ended.id} ({ended.title}); it stays readable on the class board.")
    return 0


def command_reveal(arguments) -> int:
    students.reveal_test(TEACHER, True)
    print("Test accuracy is now shown to the class, with the final ranking by test accuracy.")
    return 0


def command_hide_test(arguments) -> int:
    students.reveal_test(TEACHER, False)
    print("Test accuracy is hidden from the class again.")
    return 0


def command_results(arguments) -> int:
    if not arguments.csv:
        raise ValueError("Say the format: python -m mnistlib results --csv")
    if arguments.dataset is not None:
        datasets.info(arguments.dataset)
    sys.stdout.write(gradebook.csv_text(arguments.dataset, test_revealed=students.test_revealed()))
    return 0


def add_commands(commands) -> None:
    """Add challenge, reveal, hide-test and results to the CLI's subcommands."""
    challenge = commands.add_parser("challenge", help="set, list or end the class's challenges (as the teacher)")
    challenge_commands = challenge.add_subparsers(dest="challenge_command", required=True)
    set_ = challenge_commands.add_parser("set", help="start a challenge on one dataset (one active per dataset)")
    set_.add_argument("--title", required=True)
    set_.add_argument("--dataset", required=True, help="e.g. mnist or fashion_mnist")
    set_.add_argument("--min-validation-accuracy", type=float, required=True, help="a fraction, e.g. 0.97")
    set_.add_argument("--max-parameters", type=int)
    set_.add_argument("--max-epochs", type=int)
    set_.add_argument("--max-train-images", type=int)
    set_.add_argument("--max-seconds", type=float)
    set_.add_argument("--closes", help="a closing time in UTC, e.g. 2026-12-03T10:30")
    set_.set_defaults(run=command_challenge_set)
    challenge_commands.add_parser("list", help="every challenge, the ended ones too").set_defaults(
        run=command_challenge_list)
    end = challenge_commands.add_parser("end", help="end the active challenge (it stays readable)")
    end.add_argument("--dataset")
    end.add_argument("--id", type=int)
    end.set_defaults(run=command_challenge_end)
    commands.add_parser("reveal", help="show test accuracy to the class").set_defaults(run=command_reveal)
    commands.add_parser("hide-test", help="hide test accuracy from the class").set_defaults(run=command_hide_test)
    results = commands.add_parser("results", help="the class's results as a gradebook")
    results.add_argument("--csv", action="store_true", help="write CSV to standard output (one row per model)")
    results.add_argument("--dataset")
    results.set_defaults(run=command_results)
