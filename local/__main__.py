"""`python -m local`: run the local stack, mint ID tokens, pay orders, fire schedules.

python -m local run                                   # what `make run` does
python -m local token --email E [--group admin|support|affiliate]
python -m local pay ORDER_ID [--decline]
python -m local trigger NAME
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from local.aws import DYNAMODB_MODELS
from local.stack import Options, Stack, default_state_dir, read_state, run_forever

GROUPS = ("admin", "support", "affiliate")


def _state(args: argparse.Namespace) -> dict[str, Any]:
    try:
        return read_state(args.state_dir)
    except FileNotFoundError as error:
        sys.exit(str(error))


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"--param wants NAME=VALUE, got {text!r}")
    return name, value


def cmd_run(args: argparse.Namespace) -> None:
    from local.console import Console
    from local.stack import refuse_if_running

    refuse_if_running(args.state_dir)  # before the log of the running one is truncated
    console = Console.divert_if_terminal(args.state_dir, verbose=args.verbose)
    if console is not None:
        print(f"Starting the local stack (log: {console.log_path}; --verbose shows it here)", file=console.terminal)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    options = Options(
        api_port=args.port,
        aws_port=args.aws_port,
        stripe_port=args.stripe_port,
        state_dir=args.state_dir,
        seed=not args.no_seed,
        seed_pricing=not args.no_demo_pricing,
        quiet=args.quiet,
        parameters=dict(_pair(p) for p in args.param),
        workers=args.workers,
        quick_retries=args.quick_retries,
        dynamodb_model=args.dynamodb_model,
        web_port=None if args.web_port == 0 else args.web_port,
        progress=console.progress if console else None,
    )
    stack = Stack(options)
    try:
        try:
            stack.start()
        except BaseException as error:
            if console is not None:
                console.failed(error)
            raise
        if console is not None:
            console.done()
        run_forever(stack, terminal=console.terminal if console else None)
    finally:
        stack.stop()


def cmd_token(args: argparse.Namespace) -> None:
    from local import cognito

    state = _state(args)
    token = cognito.token_for(
        state["awsEndpoint"], state["userPoolId"], state["userPoolClientId"], args.email, args.group
    )
    print(token)


def cmd_pay(args: argparse.Namespace) -> None:
    from local.stripe import NoPaymentIntent, pay

    state = _state(args)
    if not state.get("stripeUrl"):
        sys.exit("this local stack runs without localstripe")
    try:
        intent = pay(state["stripeUrl"], args.order_id, decline=args.decline)
    except NoPaymentIntent as error:
        sys.exit(str(error))
    print(json.dumps({"paymentIntent": intent["id"], "status": intent["status"]}))


def cmd_trigger(args: argparse.Namespace) -> None:
    from local.schedules import TriggerFailed, UnknownSchedule, trigger

    state = _state(args)
    try:
        result = trigger(state, args.name, args.input)
    except (UnknownSchedule, TriggerFailed) as error:
        sys.exit(str(error))
    print(json.dumps(result, default=str))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0])
    root.add_argument(
        "--state-dir", type=Path, default=default_state_dir(), help="where the running stack keeps its state"
    )
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the local stack (Ctrl-C stops it)")
    run.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_API_PORT", "3000")))
    run.add_argument("--aws-port", type=int, default=int(os.environ.get("LOCAL_AWS_PORT", "5050")))
    run.add_argument("--stripe-port", type=int, default=int(os.environ.get("LOCAL_STRIPE_PORT", "8420")))
    run.add_argument(
        "--web-port",
        type=int,
        default=int(os.environ.get("LOCAL_WEB_PORT", "8080")),
        help="where the storefront (/) and the console (/admin/) are served from web/dist; 0: not at all",
    )
    run.add_argument("--no-seed", action="store_true", help="start without the demo shop")
    run.add_argument(
        "--no-demo-pricing", action="store_true", help="seed the demo shop without its tax rates and shipping methods"
    )
    run.add_argument("--quiet", action="store_true", help="log warnings only")
    run.add_argument(
        "--verbose",
        action="store_true",
        help="logs on the terminal too (on a terminal they go only to <state dir>/stack.log)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("LOCAL_WORKERS", "4")),
        metavar="N",
        help="worker processes per function, at most (Lambda's concurrency, in small; default 4)",
    )
    run.add_argument(
        "--dynamodb-model",
        choices=DYNAMODB_MODELS,
        default=os.environ.get("LOCAL_DYNAMODB_MODEL", "serial"),
        help="serial: moto applies every DynamoDB request; aws: a hot item throttles and overlapping "
        "transactions cancel as on AWS (default: $LOCAL_DYNAMODB_MODEL or serial)",
    )
    run.add_argument(
        "--quick-retries",
        action="store_true",
        help="state machine retries after 1 s, twice at most (tests: the same failure paths in seconds, not hours)",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter, e.g. --param HoldSeconds=5 (repeatable)",
    )
    run.set_defaults(func=cmd_run)

    token = commands.add_parser("token", help="print an ID token (creates the user if missing)")
    token.add_argument("--email", required=True)
    token.add_argument("--group", choices=GROUPS)
    token.set_defaults(func=cmd_token)

    pay = commands.add_parser("pay", help="pay an order's PaymentIntent as a browser would")
    pay.add_argument("order_id", metavar="ORDER_ID")
    pay.add_argument("--decline", action="store_true", help="use a card that is declined")
    pay.set_defaults(func=cmd_pay)

    trigger = commands.add_parser("trigger", help="fire a schedule of the template now")
    trigger.add_argument("name", metavar="NAME")
    trigger.add_argument(
        "--input",
        type=json.loads,
        default={},
        metavar="JSON",
        help='merged into the schedule\'s input, e.g. --input \'{"period": "2026-11-26"}\'',
    )
    trigger.set_defaults(func=cmd_trigger)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
